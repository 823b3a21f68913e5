"""Log output of every kawal process: readable text, or JSON objects an operator can search.

``KAWAL_LOG_FORMAT=json`` makes every record one JSON object on one line: ``time`` (UTC, ISO
8601), ``level``, ``logger``, ``message`` and, where the code that logs passes them as
``extra``, ``event_id``, ``case_id``, ``stage`` and ``reason`` (a reason code). Text
(``KAWAL_LOG_FORMAT=text``, the default) is for people at a terminal.

In either format a logged exception gives its type and its frames, never its message: a
third-party exception's text can quote the record it failed on, and with it personal data.
That holds for what Faust and mode log too (mode logs ``Crashed reason=%r`` with the
exception's repr): every handler carries :class:`WithholdExceptionText`. The hub's own errors
(:class:`~schemas.errors.KawalError`) keep their messages, which never hold personal data and
say what to do.

kafka-python, which the hub's short-lived clients use (the lag reading every 15 s, the CLI,
the connectors), logs each connection's life at INFO: some 20 lines per client, most of a
worker's log at rest. Above DEBUG only its warnings and errors are kept
(:func:`quiet_client_chatter`). The two lines it writes when a healthy client closes
(``Metadata refresh: failed Cancelled`` and an ``Invalid file descriptor`` traceback) are DEBUG
(:class:`QuietClientShutdownNoise`). An error it logs for a failure it retries itself is a
warning (:class:`DemoteRetriedClientErrors`): ERROR lines are for what an operator must act on.
So is its error about reading a connection it had already closed (``Error receiving network
data`` with an AttributeError from a transport shown ``(closed)``), a race of the client's own
that it handles as a lost connection: the warning keeps the line, without the traceback.

While the broker is away, aiokafka and kafka-python log each failed connection, metadata
request, fetch and produce: thousands of lines a minute (3,331 in 31 s from one worker), which
buried the hub's own single line saying so. The same client line passes at most once a minute,
and the next one that passes says how many were held back (:class:`RepeatedClientLines`).

A record's message is one line (:class:`OneLinePerRecord`): a request path, a token's subject
or a letter's reason that holds a line feed would otherwise write a line of its own choosing
into the log, dated and levelled as the hub's.

Nothing here adds personal data: the hub logs identifiers (case and event ids are opaque
UUIDs), coordinates and reason codes only.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from aiohttp.http_exceptions import BadHttpMessage
from kafka.errors import Cancelled, KafkaError

from monitoring.process_registry import MALFORMED_REQUESTS
from schemas.errors import KawalError

#: Fields a record may carry in ``extra`` that go into the JSON object.
FIELDS = ("event_id", "case_id", "stage", "reason")
#: Text format of the processes that configure their own logging (connectors, tools).
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Libraries whose INFO lines tell connection lifecycles, not what the hub does.
CHATTY_LOGGERS = ("kafka",)
#: Loggers of the Kafka clients, whose repeated lines are held back (:class:`RepeatedClientLines`).
CLIENT_LOGGERS = ("aiokafka", "kafka")
#: How often one client line may pass, s.
REPEAT_SECONDS = 60.0
#: aiohttp's logger of the requests its servers could not handle.
HTTP_SERVER_LOGGER = "aiohttp.server"
#: Control characters but tab, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
#: (logger, message template) of each line, as kafka-python logs it.
METADATA_FAILED = ("kafka.cluster", "Metadata refresh: failed %s")
TASK_FAILED = ("kafka.net.selector", "Unhandled exception in task %s:")
#: What :mod:`selectors` says of a closed socket.
CLOSED_SOCKET = "Invalid file descriptor: -1"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object (see the module docstring)."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = str(value)
        if record.exc_info and record.exc_info[0] is not None:
            error, _, trace = record.exc_info
            entry["error_type"] = error.__name__
            entry["traceback"] = frames(trace)
        return json.dumps(entry, ensure_ascii=False)


def frames(tb: TracebackType | None) -> str:
    """The frames of a traceback, for a log line that names an exception's type, never its text.

    A third-party exception's text can quote the record it failed on, and with it personal
    data; where the code ran is enough to find the defect.
    """
    return "".join(traceback.format_tb(tb))


def failure_name(exc: BaseException) -> str:
    """An exception's type, and for a database error its code: what failed, never its text.

    SQLite's ``DatabaseError`` alone does not tell a locked file (``SQLITE_BUSY``) from a
    damaged one (``SQLITE_CORRUPT``) or one that is no database (``SQLITE_NOTADB``); its code
    names no value.
    """
    code = getattr(exc, "sqlite_errorname", None)
    return f"{type(exc).__name__} ({code})" if isinstance(code, str) else type(exc).__name__


class WithholdExceptionText(logging.Filter):
    """Name a third-party exception in a record by its type only, whichever formatter runs.

    An exception among the record's arguments (or as its message) becomes its type's name; a
    logged exception's text (``exc_text``, which every standard formatter prints as it is)
    becomes its type and frames.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place; never drop it."""
        if _withheld(record.msg):
            record.msg = type(record.msg).__name__
        if isinstance(record.args, tuple) and any(_withheld(arg) for arg in record.args):
            record.args = tuple(
                _TypeName(type(arg).__name__) if _withheld(arg) else arg for arg in record.args
            )
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            what = type(error).__name__
            what += " (message withheld)" if _withheld(error) else f": {error}"
            trace = frames(record.exc_info[2])
            record.exc_text = f"Traceback (most recent call last):\n{trace}{what}"
        return True


class OneLinePerRecord(logging.Filter):
    r"""Write the control characters of a record's message as ``\u00XX``: one line per record.

    The traceback of a logged exception keeps its lines; they are the formatter's, not text
    the message quotes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place; never drop it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # arguments that do not fit: the handler reports that itself
        if _CONTROL.search(message):
            record.msg = _CONTROL.sub(lambda found: f"\\u{ord(found.group()):04x}", message)
            record.args = ()
        return True


class RepeatedClientLines(logging.Filter):
    """A Kafka client's warning or error (logger, level, template) passes once a period.

    The next one that passes after a period says how many were held back in between.
    """

    def __init__(
        self, seconds: float = REPEAT_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Let each client line through once per ``seconds`` of ``clock``."""
        super().__init__()
        self._seconds = seconds
        self._clock = clock
        self._passed: dict[tuple[str, int, str], float] = {}
        self._held: Counter[tuple[str, int, str]] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is written; one that follows held ones says how many."""
        # Warnings and errors only: the flood is of failures; a client's INFO lines (a group's
        # assignments) tell what happened, each time it happens.
        if record.levelno < logging.WARNING or not record.name.startswith(CLIENT_LOGGERS):
            return True
        line, now = (record.name, record.levelno, str(record.msg)), self._clock()
        passed = self._passed.get(line)
        if passed is not None and now - passed < self._seconds:
            self._held[line] += 1
            return False
        self._passed[line] = now
        held = self._held.pop(line, 0)
        if held:
            record.msg = f"{record.msg} [and {held} more like it in the last {self._seconds:.0f} s]"
        return True


class DemoteRetriedClientErrors(logging.Filter):
    """Make kafka-python's ERROR about an error it retries (a retriable one) a WARNING.

    Its error about reading a connection it had closed itself becomes a WARNING too, without
    the traceback: the client handles it as a lost connection and connects again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place; never drop it."""
        if record.levelno != logging.ERROR or not record.name.startswith("kafka."):
            return True
        if isinstance(record.args, tuple) and any(_retriable(arg) for arg in record.args):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        elif _read_after_close(record):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


class QuietClientShutdownNoise(logging.Filter):
    """Make kafka-python's two lines of a healthy client closing DEBUG; pass every other record.

    kafka-python 3 runs its own I/O loop. Closing a client (the lag reading, the stray-record
    count, the broker watch) while its loop has work in flight logs, with nothing wrong:

    - ``kafka.cluster``: ``Metadata refresh: failed Cancelled``, at ERROR: the metadata request
      the client cancelled itself as it closed (``Errors.Cancelled`` is what its loop gives a
      task it closes, and its connection a request still open when it closes without error);
    - ``kafka.net.selector``: ``Unhandled exception in task ...`` with the traceback of
      ``ValueError: Invalid file descriptor: -1``: a read the transport scheduled before it
      closed its socket asks the selector to watch the closed socket (``selectors`` refuses fd
      -1; the loop's ``register_event`` expects only a ``KeyError``).

    Operators read both as trouble. Exactly those records, by logger and message, are DEBUG
    (written only when the client loggers are at DEBUG); a metadata refresh that failed for any
    other reason (the broker away: ``KafkaConnectionError``) and any other failure of a task
    keep their level.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is written: a closing client's line only at DEBUG."""
        if not _shutdown_noise(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def _shutdown_noise(record: logging.LogRecord) -> bool:
    """Whether ``record`` is one of the two lines (module docstring), by logger and message."""
    line = (record.name, record.msg)
    args = record.args if isinstance(record.args, tuple) else ()
    if line == METADATA_FAILED:
        return len(args) == 1 and isinstance(args[0], Cancelled)
    if line == TASK_FAILED:
        error = record.exc_info[1] if record.exc_info else None
        return isinstance(error, ValueError) and error.args == (CLOSED_SOCKET,)
    return False


class QuietMalformedRequests(logging.Filter):
    """aiohttp's error about a request it could not parse becomes a DEBUG line.

    A malformed request line or header is the client's doing and is answered 400; logged at
    ERROR with a traceback, as aiohttp does, it let anyone fill the hub's logs at will. aiohttp
    itself logs a request with a bad method at DEBUG for the same reason. A request the hub
    failed to handle (a 500) stays an ERROR. Each demoted record is counted
    (:data:`monitoring.process_registry.MALFORMED_REQUESTS`): ops see the rate on ``/metrics``
    instead.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Demote a malformed request's record, kept only when DEBUG is on."""
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, BadHttpMessage):
            return True
        MALFORMED_REQUESTS.count += 1
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        # Its message quotes the bytes sent (a long header's: a bearer credential's first
        # hundred); the error's kind is all a reader of the log needs.
        record.msg = f"{record.msg} ({type(error).__name__}; the request is not quoted)"
        record.exc_info, record.exc_text = None, None
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def quiet_malformed_requests() -> None:
    """Install :class:`QuietMalformedRequests` on aiohttp's server logger (once)."""
    logger = logging.getLogger(HTTP_SERVER_LOGGER)
    if not any(isinstance(f, QuietMalformedRequests) for f in logger.filters):
        logger.addFilter(QuietMalformedRequests())


def _retriable(value: object) -> bool:
    return isinstance(value, KafkaError) and bool(value.retriable)


def _read_after_close(record: logging.LogRecord) -> bool:
    """Whether ``record`` is kafka-python failing to read a transport it had closed."""
    error = record.exc_info[1] if record.exc_info else None
    return (
        isinstance(error, AttributeError)
        and isinstance(record.msg, str)
        and record.msg.startswith("%s: Error receiving network data")
        and isinstance(record.args, tuple)
        and bool(record.args)
        and str(record.args[0]).endswith("(closed)>")
    )


class _TypeName(str):
    """An exception's type name, which ``%r`` shows bare as ``%s`` does."""

    def __repr__(self) -> str:
        return str(self)


#: Third-party exceptions whose text names no value, by module and name (importing Faust here
#: would load it into every command): its changelog check quotes a topic, a partition and
#: offsets, and is what an operator must read to recover (docs/operations.md).
_TEXT_KEPT = frozenset({("faust.exceptions", "ConsistencyError")})


def _withheld(value: object) -> bool:
    if not isinstance(value, BaseException) or isinstance(value, KawalError):
        return False
    return (type(value).__module__, type(value).__name__) not in _TEXT_KEPT


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``log_format`` (``json`` or ``text``)."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def use_format(logger: logging.Logger, log_format: str) -> None:
    """Give every handler of ``logger`` the formatter of ``log_format`` (Faust's included).

    Every handler also withholds exception text (:class:`WithholdExceptionText`) and demotes
    kafka-python's errors about what it retries (:class:`DemoteRetriedClientErrors`).
    """
    for handler in logger.handlers:
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
        _add_filters(handler)


def configure(log_format: str, level: str) -> None:
    """Log to stderr in ``log_format`` at ``level`` (processes without Faust: connectors)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    _add_filters(handler)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_client_chatter(root.level)
    quiet_malformed_requests()


def _add_filters(handler: logging.Handler) -> None:
    # A closing client's noise is dropped before anything counts or rewrites it.
    handler.addFilter(QuietClientShutdownNoise())
    # Demoted first: the withholding filter then turns the error into its type's name, and a
    # retried error is not held back as a line of a real one.
    handler.addFilter(DemoteRetriedClientErrors())
    handler.addFilter(RepeatedClientLines())
    handler.addFilter(WithholdExceptionText())
    handler.addFilter(OneLinePerRecord())


def quiet_client_chatter(level: int) -> None:
    """Keep only warnings and errors of :data:`CHATTY_LOGGERS` unless ``level`` is DEBUG."""
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(
            logging.NOTSET if level <= logging.DEBUG else logging.WARNING
        )
