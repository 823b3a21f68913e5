"""A small client of the Confluent Schema Registry REST API, for the Confluent wire format.

With a schema registry configured, producers frame each Avro body with the 4-byte id the
registry gave the writer's schema. This client does the two calls that takes: it registers the
catalogue's schemas (``POST /subjects/{subject}/versions``) and looks ids up
(``GET /schemas/ids/{id}``). It implements :class:`schemas.codec.SchemaRegistry`, so
``AvroCodec(catalog, registry=client)`` writes and reads the Confluent framing.

An id is mapped back to a catalogue schema by fingerprint: the registry's schema text is parsed
and its Parsing Canonical Form compared with the catalogue's, so docs, attribute order or
whitespace in the registry never matter, but a writer's schema version the hub lacks is refused.

Ids never change once a registry gives them, so both directions are cached for the life of the
client: a schema is registered once, an id looked up once.

Example::

    client = SchemaRegistryClient("http://registry:8081", default_catalog())
    codec = AvroCodec(default_catalog(), registry=client)
"""

import base64
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from fastavro.repository.base import SchemaRepositoryError
from fastavro.schema import SchemaParseException, parse_schema

from schemas.catalog import SchemaCatalog, schema_fingerprint
from schemas.errors import KawalError, UnknownSchemaError

__all__ = [
    "CONTENT_TYPE",
    "SchemaNotRegisteredError",
    "SchemaRegistryClient",
    "SchemaRegistryError",
    "SchemaRegistryUnavailableError",
    "SchemaRejectedError",
    "subject_for",
]

#: Media type of the registry's REST API (v1).
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
DEFAULT_TIMEOUT_SECONDS = 5.0
#: The registry's error code for an id it does not hold.
SCHEMA_NOT_FOUND = 40403
_MAX_SCHEMA_ID = 2**31 - 1  # ids are Java ints; the wire format has 4 bytes for them


class SchemaRegistryError(KawalError):
    """The schema registry refused a request or answered something unusable."""


class SchemaRegistryUnavailableError(SchemaRegistryError):
    """The registry cannot be reached, timed out, or failed on its side (HTTP 5xx); retry."""


class SchemaNotRegisteredError(SchemaRegistryError, LookupError):
    """The registry holds no schema under the id asked for."""


class SchemaRejectedError(SchemaRegistryError):
    """The registry refused to register a schema: invalid, or incompatible with the subject."""


def subject_for(full_name: str) -> str:
    """Returns the registry subject of a message: its full name.

    This is Confluent's RecordNameStrategy: one subject per record type, whatever topic it is
    on, since the same records travel on inbound, case and outbound topics.
    """
    return full_name


class SchemaRegistryClient:
    """Registers the catalogue's schemas and resolves ids, over the registry's REST API."""

    def __init__(
        self, url: str, catalog: SchemaCatalog, *, timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        """Builds a client; nothing is sent until a schema is needed.

        Args:
            url: base URL of the registry, ``http(s)://host:port``; credentials for basic
                authentication may be given as ``https://user:password@host``.
            catalog: the schemas registered, and those ids are resolved to.
            timeout: seconds to wait for each HTTP request.

        Raises:
            SchemaRegistryError: the URL is not an http(s) URL.
        """
        self._base_url, self._authorization = _split_credentials(url)
        self._catalog = catalog
        self._timeout = timeout
        # No lock: a race at worst registers a schema twice, which the registry answers with
        # the same id.
        self._ids: dict[str, int] = {}
        self._names: dict[int, str] = {}

    @property
    def url(self) -> str:
        """The registry's base URL, without credentials (safe to log)."""
        return self._base_url

    def schema_id_for(self, full_name: str) -> int:
        """Returns the registry id of the catalogue's schema, registering it on first use.

        Raises:
            UnknownSchemaError: no such message in the catalogue.
            SchemaRejectedError: the registry refused the schema.
            SchemaRegistryUnavailableError: the registry cannot be reached.
            SchemaRegistryError: any other failure of the registry.
        """
        full_name = self._catalog.message_name(full_name)
        if full_name not in self._ids:
            schema_id = self._register(full_name)
            self._ids[full_name] = schema_id
            self._names[schema_id] = full_name
        return self._ids[full_name]

    def full_name_for(self, schema_id: int) -> str:
        """Returns the full name of the catalogue schema registered under ``schema_id``.

        Raises:
            SchemaNotRegisteredError: the registry holds no such id (a ``LookupError``).
            UnknownSchemaError: the id's schema is not a schema of this catalogue.
            SchemaRegistryUnavailableError: the registry cannot be reached.
            SchemaRegistryError: any other failure of the registry.
        """
        if schema_id not in self._names:
            self._names[schema_id] = self._match(schema_id, self.schema_text(schema_id))
        return self._names[schema_id]

    def schema_text(self, schema_id: int) -> str:
        """Returns the schema text the registry holds under ``schema_id`` (not cached).

        Raises:
            SchemaNotRegisteredError: the registry holds no such id.
            SchemaRegistryUnavailableError: the registry cannot be reached.
            SchemaRegistryError: any other failure of the registry.
        """
        what = f"looking up schema id {schema_id}"
        answer = self._request("GET", f"/schemas/ids/{schema_id}", None, what)
        schema = answer.get("schema")
        if not isinstance(schema, str):
            raise SchemaRegistryError(
                f"schema registry at {self.url} answered without a schema text while {what}; "
                "check that the URL points at a Confluent-compatible registry"
            )
        return schema

    def _register(self, full_name: str) -> int:
        subject = subject_for(full_name)
        body = {"schema": self._catalog.schema_json(full_name), "schemaType": "AVRO"}
        path = f"/subjects/{urllib.parse.quote(subject, safe='')}/versions"
        answer = self._request("POST", path, body, f"registering subject {subject}")
        schema_id = answer.get("id")
        if not isinstance(schema_id, int) or not 0 <= schema_id <= _MAX_SCHEMA_ID:
            raise SchemaRegistryError(
                f"schema registry at {self.url} answered without a valid id while registering "
                f"subject {subject}; check that the URL points at a Confluent-compatible registry"
            )
        return schema_id

    def _match(self, schema_id: int, text: str) -> str:
        """Finds the catalogue message whose canonical form equals the registry's schema."""
        schema = self._parse(schema_id, text)
        found = schema_fingerprint(schema)
        try:
            return self._catalog.name_for_fingerprint(found)
        except UnknownSchemaError:
            raise UnknownSchemaError(
                f"schema id {schema_id} in the registry at {self.url} is a version of "
                f"{schema.get('name', '?')} (fingerprint {found.hex()}) that is not in this "
                "hub's catalogue; deploy the writer's schema version to the hub"
            ) from None

    def _parse(self, schema_id: int, text: str) -> dict[str, Any]:
        try:
            schema = parse_schema(json.loads(text))
        except (ValueError, TypeError, KeyError, SchemaParseException, SchemaRepositoryError):
            schema = None
        if not isinstance(schema, dict):  # messages are records; anything else is foreign
            raise UnknownSchemaError(
                f"schema id {schema_id} in the registry at {self.url} is not an Avro record "
                "schema this hub can parse; the producer registered something else under it"
            )
        return schema

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None, what: str
    ) -> dict[str, Any]:
        """Sends one request and returns its JSON object, translating every failure."""
        request = urllib.request.Request(  # noqa: S310 - the scheme was checked in __init__
            self._base_url + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers=self._headers(),
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise self._refusal(exc.code, _error_body(exc), what) from None
        except (OSError, http.client.HTTPException) as exc:
            # URLError, refused connections, timeouts, and answers that are not HTTP at all.
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise SchemaRegistryUnavailableError(
                f"schema registry at {self.url} is unreachable ({reason}) while {what}; "
                "start the registry or fix the registry URL, then retry"
            ) from exc
        return self._json_object(payload, what)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": CONTENT_TYPE, "Content-Type": CONTENT_TYPE}
        if self._authorization:
            headers["Authorization"] = self._authorization
        return headers

    def _json_object(self, payload: bytes, what: str) -> dict[str, Any]:
        try:
            answer = json.loads(payload)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise SchemaRegistryError(
                f"schema registry at {self.url} answered with something other than a JSON "
                f"object while {what}; check that the URL points at a Confluent-compatible "
                "registry"
            )
        return answer

    def _refusal(self, status: int, payload: bytes, what: str) -> SchemaRegistryError:
        """The error for an HTTP error answer, from its ``error_code`` and ``message``."""
        code, message = _error_fields(payload)
        said = f"HTTP {status}, error {code}: {message}"
        where = f"schema registry at {self.url}"
        if code == SCHEMA_NOT_FOUND:
            return SchemaNotRegisteredError(
                f"{where} answered {said} while {what}; point producers and the hub at the "
                "same registry"
            )
        if status in (409, 422):
            return SchemaRejectedError(
                f"{where} refused the schema while {what} ({said}); make the schema change "
                "compatible with the subject's earlier versions, or review the subject's "
                "compatibility setting"
            )
        if status in (401, 403):
            return SchemaRegistryError(
                f"{where} denied access while {what} ({said}); give credentials in the "
                "registry URL (https://user:password@host) or grant this client access"
            )
        if status >= 500:
            return SchemaRegistryUnavailableError(
                f"{where} failed on its side while {what} ({said}); retry later or check the "
                "registry's log"
            )
        return SchemaRegistryError(f"{where} answered {said} while {what}; check the registry URL")


def _split_credentials(url: str) -> tuple[str, str | None]:
    """Returns the base URL without credentials, and the basic-auth header they make."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SchemaRegistryError(
            "the schema registry URL must look like http://host:port or https://host:port"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # IPv6
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    if parts.username is None:
        return base, None
    user = urllib.parse.unquote(parts.username)
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return base, f"Basic {token}"


def _error_body(error: urllib.error.HTTPError) -> bytes:
    """The body of an HTTP error answer; the error holds the connection until closed."""
    try:
        return error.read()
    except OSError:
        return b""
    finally:
        error.close()


def _error_fields(payload: bytes) -> tuple[object, str]:
    """The ``error_code`` and ``message`` of a registry error answer, if it has them."""
    try:
        answer = json.loads(payload)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return "?", "no error message"
    return answer.get("error_code", "?"), str(answer.get("message", "no error message"))
