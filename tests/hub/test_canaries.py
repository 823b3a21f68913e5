"""Canaries: no personal-data value shows up where it must not, on a running hub.

A hub of this module's own (tansu broker, worker, sink and KAWAL_HOME) takes the whole
disclosure case, a rejected report and a report filed through BKN's portal
(:mod:`tests.disclosure_case`), each event sent by an institution that may send it (the report
by the election supervisor and by the personnel agency; the inspectorate's through its
connector in :mod:`tests.hub.test_canaries_connectors`), with a unique canary in every
personal-data field of every event type (:mod:`tests.canaries`); and four records it
refuses: a bad signature (which ``kawal dlq replay`` will not send back), an illegal
transition (replayed and refused again), an unsigned event and a signed event with its
personal data in clear (kept in ``kawal.dlq`` by its coordinates only, so a replay of it
sends nothing). Then no canary is
found in clear (or hex-encoded):

- in the key, value or headers of any record of any topic, except the two inbound records
  their senders wrote in clear (the hub cannot unsend them; their dead letters must not repeat
  them);
- in any file under KAWAL_HOME: the SQLite audit store and its WAL, the vault and its WAL, the
  worker's and the sink's logs, keys, the replay checkpoints;
- in a ``pg_dump`` of a PostgreSQL audit store rebuilt from ``kawal.case.audit``
  (``kawal replay``, the sink's way of storing an entry);
- in ``/metrics`` and ``/health`` of the worker and the sink, or the output of ``kawal dlq
  replay``, ``kawal dlq list`` and ``kawal replay``;
- in any HTTP read (trail, case page, overview, access log) beyond what the disclosure policy
  grants its reader: the public, an operator, or any institution with its bearer token.

And each reader gets exactly its share: every trail view (``GET /cases/{id}/trail``, ``kawal
case trail --as``) shows an institution party to the case each canary its roles may see
(``DisclosurePolicy.may_see``) and no other, and every feed entry opens, with its institution's
private key, to exactly the canaries the policy grants it.

:mod:`tests.hub.test_canaries_connectors` sends canaries through the reference connectors and
their simulators instead, on a broker storing under KAWAL_HOME and a live PostgreSQL store.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from schemas.catalog import default_catalog
from streams.broker.dead_letters import opened_payload
from streams.domain.authority import load_authority_map
from streams.domain.disclosure_policy import load_disclosure_policy
from streams.domain.entries import EntryProblem, check_entry, open_feed_disclosures
from streams.domain.institutions import load_institutions
from streams.domain.parties import BREACH_EVENT, CaseParties, case_roles, parties_of_report
from streams.domain.principals import PrincipalRole
from streams.domain.signed_events import FORMAT, SIGNED_EVENT
from streams.domain.signing import Context
from streams.local.keyring import keyring_of
from streams.settings import Settings
from streams.topics import CASE_AUDIT, CASE_EVENTS, DLQ, OUTBOUND_PREFIX, outbound_topic
from tests.brokers import start_ephemeral_broker
from tests.canaries import (
    BrokerRecord,
    Canary,
    every_record,
    files_holding,
    found_in,
    labels,
    plant,
)
from tests.disclosure_case import (
    Step,
    clarified,
    portal_report,
    rejected_report,
    whole_case,
)
from tests.hubtools import RunningHub, http_get, report, start_hub
from tests.in_process import kawal_here
from tests.postgres import PostgresServer

pytestmark = pytest.mark.slow

CATALOG = default_catalog()
POLICY = load_disclosure_policy(None, CATALOG)
INSTITUTIONS = {institution.id: institution for institution in load_institutions()}
AUTHORITY_MAP = load_authority_map()
PUBLIC, OPERATOR = "public", "ops.canary"
#: Reasons of the records whose senders wrote them in clear on their inbound topics.
SENT_IN_CLEAR = ("unsigned", "personal_data_in_clear")
#: Reasons whose dead letter keeps the refused record's coordinates only, never its bytes.
BY_COORDINATES = ("personal_data_in_clear",)
#: Dead letters by reason: the illegal transition twice, as sent and as replayed.
LETTERS = {"bad_signature": 1, "illegal_transition": 2, "unsigned": 1, "personal_data_in_clear": 1}
#: Files the hub must have written under its home, so the scan of them means something.
HOME_FILES = {"audit.db", "audit.db-wal", "vault.db", "worker.log", "sink.log", "checkpoints.db"}

Where = tuple[str, int, int]


@dataclass(frozen=True)
class Refused:
    """A record the hub refuses: why, where it was written, its bytes and its canaries."""

    reason: str
    where: Where
    value: bytes
    canaries: list[Canary]


@dataclass
class Drive:
    """What the module sent to its hub."""

    hub: RunningHub
    broker_url: str
    #: Canaries of the accepted events, and those events: (case id, event id, event type).
    accepted: list[Canary] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)
    #: Each case's ReportReceived, which names its parties.
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: list[Refused] = field(default_factory=list)
    #: What the commands printed that must show no personal data (:func:`kawal`).
    printed: list[str] = field(default_factory=list)

    @property
    def canaries(self) -> list[Canary]:
        """Every canary sent, accepted or refused."""
        return self.accepted + [c for refused in self.refused for c in refused.canaries]

    @property
    def case_ids(self) -> list[str]:
        """The accepted cases, in the order they were reported."""
        return list(self.reports)

    def in_clear(self) -> dict[Where, set[str]]:
        """The inbound records sent in clear, with the labels of the canaries they carry."""
        return {
            refused.where: labels(c.value for c in refused.canaries)
            for refused in self.refused
            if refused.reason in SENT_IN_CLEAR
        }


@pytest.fixture(scope="module")
def own_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHub, str]]:
    """A worker and a sink on a broker of this module alone: every record on it is ours."""
    root = tmp_path_factory.mktemp("canaries")
    broker = start_ephemeral_broker(root / "broker")
    try:
        home = root / "home"
        home.mkdir()
        hub = start_hub(broker.url, home)
        try:
            yield hub, broker.url
        finally:
            hub.stop()
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def drove(own_hub: tuple[RunningHub, str]) -> Drive:
    """Both cases accepted, the four refused records dead-lettered, one of them replayed."""
    hub, broker_url = own_hub
    drive = Drive(hub, broker_url)
    for steps in (whole_case(), rejected_report(), portal_report()):
        take(drive, steps)
    whole, rejected, _portal = drive.case_ids
    drive.refused = [
        send(hub, "bad_signature", bad_signature(hub, whole)),
        send(hub, "illegal_transition", illegal_transition(hub, rejected)),
        send(hub, "unsigned", unsigned(hub)),
        send(hub, "personal_data_in_clear", signed_in_clear(hub)),
    ]
    hub.read(DLQ, lambda _letter: True, at_least=len(drive.refused))
    # The sender's own record, refused for what the case's state was: replay sends it back.
    replayed = kawal(drive, "dlq", "replay", "--reason", "illegal_transition")
    assert replayed.startswith("replayed 1, already replayed 0, "), replayed
    # A bad signature vouches for nobody: replay never writes it into an institution's topic.
    forged = kawal(
        drive, "dlq", "replay", "--reason", "bad_signature", "--include-permanent", exit_code=1
    )
    assert "not replayable 1" in forged, forged
    assert "signature does not verify" in forged, forged
    # A record refused for its personal data in clear is kept by its coordinates only: a
    # replay has nothing to write in clear again (docs/signing.md).
    # Nothing it selects can be replayed: it exits 1.
    in_clear = kawal(drive, "dlq", "replay", "--reason", "personal_data_in_clear", exit_code=1)
    summary, refusal = in_clear.splitlines()
    assert summary == "replayed 0, already replayed 0, not replayable 1, permanent 0", in_clear
    assert refusal.startswith("not replayed "), in_clear
    assert "sends it again, sealed" in refusal, in_clear
    hub.read(DLQ, lambda _letter: True, at_least=sum(LETTERS.values()))
    return drive


def take(drive: Drive, steps: list[Step]) -> None:
    """Plant canaries in every step, send each and wait until the trail has it."""
    for event_type, record in steps:
        envelope = record["envelope"]
        drive.accepted += plant(CATALOG, event_type, record)
        drive.events.append((envelope["case_id"], envelope["event_id"], event_type))
        if event_type == "ReportReceived":
            drive.reports[envelope["case_id"]] = record
        drive.hub.step(event_type, record)


@dataclass(frozen=True)
class Outgoing:
    """A record to write on an institution's inbound topic, and the canaries in it."""

    institution: str
    case_id: str
    value: bytes
    canaries: list[Canary]


def send(hub: RunningHub, reason: str, outgoing: Outgoing) -> Refused:
    """Write ``outgoing`` as it is; the refusal it is expected to get, and where it went."""
    future = hub.publisher.send_raw(outgoing.institution, outgoing.case_id, outgoing.value)
    hub.publisher.flush()
    sent = future.get(timeout=30)
    where = (sent.topic, sent.partition, sent.offset)
    return Refused(reason, where, outgoing.value, outgoing.canaries)


def bad_signature(hub: RunningHub, case_id: str) -> Outgoing:
    """BKN's clarification request, its disclosures sealed to the hub, its signature broken."""
    event_type, record = clarified(case_id)[0]
    canaries = plant(CATALOG, event_type, record)
    wrapper = hub.codec.decode(hub.signed(event_type, record)).record
    signature = wrapper["signature"]
    wrapper["signature"] = bytes([signature[0] ^ 1]) + signature[1:]
    return Outgoing("bkn", case_id, hub.codec.encode(SIGNED_EVENT, wrapper), canaries)


def illegal_transition(hub: RunningHub, case_id: str) -> Outgoing:
    """A well signed and sealed clarification from the PPK that answers no request yet.

    Its request could still come, so it stays replayable (a verification of the rejected
    report would not: the case is past that step for good, ``case_past_step``).
    """
    event_type, record = clarified(case_id)[1]
    canaries = plant(CATALOG, event_type, record)
    return Outgoing("ppk.3374", case_id, hub.signed(event_type, record), canaries)


def unsigned(hub: RunningHub) -> Outgoing:
    """A bare report, its personal data in clear, no signature."""
    record = report("bawaslu.33")
    canaries = plant(CATALOG, "ReportReceived", record)
    value = hub.codec.encode("ReportReceived", record)
    return Outgoing("bawaslu.33", record["envelope"]["case_id"], value, canaries)


def signed_in_clear(hub: RunningHub) -> Outgoing:
    """A report signed by its sender with its personal data in clear, not committed."""
    record = report("bawaslu.33")
    canaries = plant(CATALOG, "ReportReceived", record)
    envelope = record["envelope"]
    event = hub.codec.encode_canonical(CATALOG.message_name("ReportReceived"), record)
    key = hub.publisher.keyring.signing_key(envelope["source"], envelope["event_time"])
    wrapper = {
        "format": FORMAT,
        "event": event,
        "key_id": key.key_id,
        "signature": key.sign(Context.EVENT, event),
        "disclosures": [],
        "sealed_disclosures": [],
    }
    value = hub.codec.encode(SIGNED_EVENT, wrapper)
    return Outgoing("bawaslu.33", envelope["case_id"], value, canaries)


def kawal(drive: Drive, *args: str, view: bool = False, exit_code: int = 0, **settings: str) -> str:
    """Run ``kawal ARGS`` on the module's hub (more ``KAWAL_*`` settings given); its stdout.

    What it printed that must show no personal data is kept in ``drive.printed``: everything,
    or only its stderr for a ``view`` (a trail view shows its viewer's share).
    """
    env = {"KAWAL_HOME": str(drive.hub.home), "KAWAL_BROKER_URL": drive.broker_url}
    env |= {f"KAWAL_{name.upper()}": value for name, value in settings.items()}
    done = kawal_here(env, *args)
    drive.printed.append(done.stderr if view else done.stdout + done.stderr)
    assert done.returncode == exit_code, done.stdout + done.stderr
    return done.stdout


def granted(roles: frozenset[str], canary: Canary) -> bool:
    """Whether any of ``roles`` may see the field ``canary`` was planted in."""
    return any(POLICY.may_see(role, canary.event_type, canary.field) for role in roles)


def parties_of(drove: Drive, case_id: str) -> CaseParties:
    """The case's parties; a breach of one of its deadlines makes the ministries parties."""
    breached = any(case == case_id and kind == BREACH_EVENT for case, _, kind in drove.events)
    return replace(parties_of_report(AUTHORITY_MAP, drove.reports[case_id]), breached=breached)


def entitled(drove: Drive, reader: str, case_id: str) -> set[str] | None:
    """The canaries of the case ``reader`` may see in its trail; None: it is not a party."""
    if reader in (PUBLIC, OPERATOR):
        return set()
    roles = case_roles(INSTITUTIONS[reader], parties_of(drove, case_id))
    if roles is None:
        return None
    return {c.value for c in drove.accepted if c.case_id == case_id and granted(roles, c)}


@pytest.fixture(scope="module")
def responses(drove: Drive) -> dict[tuple[str, str], tuple[int, bytes]]:
    """Every HTTP read of every reader: (reader, path) → status and body.

    The readers: the public, an operator, and every institution (party to the cases or not)
    with a bearer token of its own.
    """
    hub = drove.hub
    tokens: dict[str, str | None] = {
        PUBLIC: None,
        OPERATOR: hub.token(OPERATOR, PrincipalRole.OPERATOR).secret,
    }
    tokens |= {name: hub.token(name).secret for name in INSTITUTIONS if name != "kawal"}
    paths = ["/", "/access-log"]
    for case_id in drove.case_ids:
        paths += [f"/cases/{case_id}", f"/cases/{case_id}/trail", f"/access-log?case={case_id}"]
    return {
        (reader, path): http_get(hub.base_url + path, token)
        for reader, token in tokens.items()
        for path in paths
    }


@pytest.fixture(scope="module")
def pg_dump(drove: Drive, postgres: PostgresServer) -> tuple[dict[str, Any], bytes]:
    """``kawal replay`` of the trail into a PostgreSQL audit store: its summary and dump."""
    name = f"kawal_canaries_{uuid.uuid4().hex[:8]}"
    url = postgres.create_database(name)
    summary: dict[str, Any] = json.loads(kawal(drove, "replay", "--json", audit_db_url=url))
    return summary, postgres.dump(name)


#: Viewers of the whole case on the command line: the public, the reported civil servant's
#: employing agency (never the reporter) and the recommending authority.
COMMAND_VIEWERS = (PUBLIC, "ppk.3374", "bkn")


@pytest.fixture(scope="module")
def command_views(drove: Drive) -> dict[str, str]:
    """``kawal case trail`` of the whole case per viewer of COMMAND_VIEWERS, and ``dlq list``."""
    whole = drove.case_ids[0]
    views = {
        viewer: kawal(drove, "case", "trail", whole, "--json", *as_viewer(viewer), view=True)
        for viewer in COMMAND_VIEWERS
    }
    return views | {"dlq list": kawal(drove, "dlq", "list", "--json")}


def as_viewer(viewer: str) -> tuple[str, ...]:
    """The options of ``kawal case trail`` that choose ``viewer``'s view."""
    return () if viewer == PUBLIC else ("--as", viewer)


@pytest.fixture(scope="module")
def settled(
    drove: Drive,
    responses: dict[tuple[str, str], tuple[int, bytes]],
    pg_dump: tuple[dict[str, Any], bytes],
    command_views: dict[str, str],
) -> Drive:
    """The drive once every read and command is done: what is scanned after it is final."""
    return drove


@pytest.fixture(scope="module")
def topics(settled: Drive) -> list[BrokerRecord]:
    """Every record of every topic of the module's broker."""
    return every_record(settled.hub.bootstrap)


def test_every_personal_data_field_of_every_event_type_holds_a_canary(drove: Drive) -> None:
    planted = {(c.event_type, c.field) for c in drove.accepted}
    every = {
        (event_type, name)
        for event_type in CATALOG.event_types()
        for name in CATALOG.personal_data_fields(event_type)
    }
    assert planted == every
    assert len({c.value for c in drove.canaries}) == len(drove.canaries)
    assert drove.hub.store.count() == len(drove.events)


def test_each_trail_shows_its_reader_exactly_the_canaries_it_may_see(
    drove: Drive, responses: dict[tuple[str, str], tuple[int, bytes]]
) -> None:
    wrong: dict[tuple[str, str], dict[str, Any]] = {}
    shown: set[str] = set()
    for (reader, path), (status, body) in responses.items():
        if not path.endswith("/trail"):
            continue
        case_id = path.split("/")[2]
        expected = entitled(drove, reader, case_id)
        seen = found_in(body, drove.canaries)
        shown |= seen
        may_see = expected or set()
        # Without a credential no trail is read (KAWAL_PUBLIC_CASES off), not even withheld.
        allowed = 401 if reader == PUBLIC else 403 if expected is None else 200
        if (status, seen) != (allowed, may_see):
            wrong[reader, case_id] = {
                "status": status,
                "shown, not granted": labels(seen - may_see),
                "granted, not shown": labels(may_see - seen),
            }
    assert wrong == {}
    # Each accepted canary was shown to some reader: the views do open the vaulted values.
    assert shown == {c.value for c in drove.accepted}


def test_no_other_read_shows_a_canary(
    drove: Drive, responses: dict[tuple[str, str], tuple[int, bytes]]
) -> None:
    shown = {
        key: labels(found_in(body, drove.canaries))
        for key, (_, body) in responses.items()
        if not key[1].endswith("/trail")
    }
    assert {key: found for key, found in shown.items() if found} == {}
    assert {key: status for key, (status, _) in responses.items() if status >= 500} == {}
    assert {responses[PUBLIC, f"/cases/{case_id}"][0] for case_id in drove.case_ids} == {401}
    assert {responses[OPERATOR, f"/cases/{case_id}"][0] for case_id in drove.case_ids} == {200}


def test_the_command_line_shows_each_viewer_exactly_its_canaries(
    drove: Drive, command_views: dict[str, str]
) -> None:
    whole = drove.case_ids[0]
    seen = {name: found_in(text.encode(), drove.canaries) for name, text in command_views.items()}
    expected = {viewer: entitled(drove, viewer, whole) for viewer in COMMAND_VIEWERS}
    assert seen == expected | {"dlq list": set()}
    assert len(json.loads(command_views["dlq list"])) == sum(LETTERS.values())


def test_each_feed_entry_opens_to_exactly_the_canaries_the_policy_grants(
    settled: Drive, topics: list[BrokerRecord]
) -> None:
    keyring = keyring_of(Settings(home=settled.hub.home))
    feeds: dict[str, dict[str, set[str]]] = {}
    for record in topics:
        if not record.topic.startswith(OUTBOUND_PREFIX):
            continue
        decoded = settled.hub.codec.decode(record.value or b"")
        if decoded.full_name != "kawal.AuditEntry":
            continue  # a receipt
        institution, entry = record.topic.removeprefix(OUTBOUND_PREFIX), decoded.record
        opened = open_feed_disclosures(CATALOG, keyring, institution, entry)
        assert not isinstance(opened, EntryProblem), (institution, entry["event_type"], opened)
        checked = check_entry(settled.hub.codec, keyring.registry, entry, opened)
        assert not isinstance(checked, EntryProblem), (institution, entry["event_type"], checked)
        values = feeds.setdefault(institution, {}).setdefault(entry["event_id"], set())
        values |= {item["value"] for item in opened}
    assert feeds == granted_feeds(settled)


def granted_feeds(drove: Drive) -> dict[str, dict[str, set[str]]]:
    """Institution → event id → the canaries the policy grants it, per entry routed to it."""
    feeds: dict[str, dict[str, set[str]]] = {}
    for case_id, event_id, event_type in drove.events:
        parties = parties_of(drove, case_id)
        for institution in INSTITUTIONS.values():
            roles = case_roles(institution, parties)
            if roles is None or not roles & set(CATALOG.consumed_by(event_type)):
                continue
            feeds.setdefault(institution.id, {})[event_id] = {
                c.value for c in drove.accepted if c.event_id == event_id and granted(roles, c)
            }
    return feeds


def test_no_record_of_any_topic_holds_a_canary_but_those_sent_in_clear(
    settled: Drive, topics: list[BrokerRecord]
) -> None:
    hits = {record.where: labels(found_in(record.raw, settled.canaries)) for record in topics}
    in_clear = settled.in_clear()
    # What their senders wrote in clear is there to be found: the scan sees plain bytes.
    assert {where: hits.pop(where) for where in in_clear} == in_clear
    assert {where: found for where, found in hits.items() if found} == {}
    read = {record.topic for record in topics}
    assert {CASE_AUDIT, CASE_EVENTS, DLQ, outbound_topic("bkn"), outbound_topic("bpasn")} <= read


def test_dead_letters_keep_refused_records_sealed(
    settled: Drive, topics: list[BrokerRecord]
) -> None:
    letters: dict[Where, tuple[dict[str, Any], BrokerRecord]] = {}
    for record in topics:
        if record.topic == DLQ:
            letter = settled.hub.codec.decode(record.value or b"").record
            where = (letter["source_topic"], letter["source_partition"], letter["source_offset"])
            letters[where] = letter, record
    assert Counter(letter["reason_code"] for letter, _ in letters.values()) == LETTERS
    keyring = keyring_of(Settings(home=settled.hub.home))
    for refused in settled.refused:
        letter, record = letters[refused.where]
        assert letter["reason_code"] == refused.reason
        assert labels(found_in(record.raw, settled.canaries)) == set(), refused.reason
        if refused.reason in BY_COORDINATES:
            assert (letter["payload"], letter["sealed_to"]) == (b"", "")
        else:  # kept for replay, sealed to the hub
            assert opened_payload(letter, keyring) == refused.value, refused.reason


def test_no_file_under_the_hub_home_holds_a_canary(settled: Drive) -> None:
    home = settled.hub.home
    assert {path.name for path in home.rglob("*")} >= HOME_FILES
    found = files_holding(home, settled.canaries)
    assert {path: labels(values) for path, values in found.items()} == {}


def test_a_postgresql_store_of_the_trail_holds_no_canary(
    settled: Drive, pg_dump: tuple[dict[str, Any], bytes]
) -> None:
    summary, dump = pg_dump
    assert summary["inserted"] == len(settled.events)
    assert all(case_id.encode() in dump for case_id in settled.case_ids)
    assert labels(found_in(dump, settled.canaries)) == set()


def test_metrics_health_and_command_output_hold_no_canary(settled: Drive) -> None:
    hub = settled.hub
    urls = [
        f"{base}/{page}" for base in (hub.base_url, hub.sink_url) for page in ("metrics", "health")
    ]
    bodies = {url: http_get(url)[1] for url in urls}
    assert b"kawal_rejections_total" in bodies[f"{hub.base_url}/metrics"]
    hits = {url: labels(found_in(body, settled.canaries)) for url, body in bodies.items()}
    hits |= {
        f"command {number}": labels(found_in(text.encode(), settled.canaries))
        for number, text in enumerate(settled.printed)
    }
    assert {where: found for where, found in hits.items() if found} == {}
