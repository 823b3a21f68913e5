"""A stand-in for an Inspektorat Daerah office: its register and its export job, errors included.

The office records the reports it receives and the examinations it takes part in, and its
export job drops them in batches onto the share it has with the hub, the way the real one does:

* a batch is written as ``incoming/<name>.part`` and renamed when complete; names are
  ``ITDA<region>_<local time>_<sequence>.<csv|json>``, so name order is export order;
* CSV comes from the spreadsheet side (UTF-8 with a byte-order mark, CRLF, local times without
  an offset, ``ya``/``tidak``), JSON from the newer web module (offsets, ``true``/``false``);
* now and then a row is malformed (``malformed_rate``): a date reformatted as ``dd/mm/yyyy``, a
  record type the hub does not know, a line cut short, a 17-digit NIP;
* :meth:`export_unreadable` drops a file that is no batch at all (a workbook saved as ``.csv``,
  a JSON export cut off mid-write);
* the share goes away (:meth:`offline`) as when the office's link or mount drops;
* it reads receipts back (:meth:`read_receipts`) and exports corrected versions of the rows
  the hub rejected (same record id) in its next batch;
* it reads what the hub writes to its ``feed/`` (:meth:`feed`, :meth:`hub_refusals`).

Everything it writes is decided by ``seed``, so tests are repeatable; two offices with
different seeds never share a record id or case number. Names and NIPs are fictitious.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from connectors.inspektorat.dropbox import FEED, INCOMING, PROCESSED, RECEIPT_SUFFIX, RECEIPTS
from connectors.simulation import SimulatedStaff

#: Western Indonesia Time: the office's clock.
WIB = timezone(timedelta(hours=7), "WIB")
#: Column order of the office's CSV export.
COLUMNS = (
    "record_id",
    "record_type",
    "recorded_at",
    "actor_ref",
    "case_id",
    "case_reporter",
    "case_number",
    "election",
    "region_code",
    "employing_agency",
    "violation",
    "discovered_on",
    "summary",
    "subject_nip",
    "subject_name",
    "reporter_ref",
    "reporter_identity",
    "held_on",
    "minutes_reference",
    "subject_attended",
    "includes_direct_superior",
    "includes_personnel_unit",
    "member_refs",
)
#: People reporting to one office: fewer than its reports, so some report several cases.
REPORTERS = 5
#: Ways a row comes out malformed, by the hub's reason code for it.
MALFORMATIONS = ("bad_date", "unknown_enum", "missing_column", "bad_value")

_VIOLATIONS = (
    "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
    "ETHICS_PHOTO_WITH_CANDIDATE",
    "ETHICS_CAMPAIGN_EVENT",
    "DISCIPLINE_PARTISAN_SUPPORT",
    "DISCIPLINE_USE_OF_OFFICE_FACILITIES",
)
_SUMMARIES = (
    "Membagikan materi kampanye pasangan calon di grup WhatsApp dinas.",
    "Berfoto dengan calon sambil menunjukkan simbol jari nomor urut.",
    "Hadir dan memberi sambutan dalam acara kampanye di balai kelurahan.",
    "Menggunakan mobil dinas untuk mengantar tim sukses.",
)
_NAMES = ("Sri Wahyuni", "Agus Santoso", "Dewi Lestari", "Bambang Riyadi", "Rina Kusuma")


class InspectorateOffice:
    """One inspectorate office and the share it drops batches into.

    Args:
        root: Directory of the office (the share is ``root/share``).
        office: The office's institution id.
        seed: Decides every record, name, format and malformed row.
        malformed_rate: Chance that one exported row is malformed.
        clock: The office's clock (aware); the real one by default. Each record is stamped
            with it (a second after the one before at the least, so records keep their order),
            and learnt of up to 3 days before: in time under the 7-day filing rule.
    """

    def __init__(
        self,
        root: Path,
        *,
        office: str = "inspektorat.3374",
        seed: int = 0,
        malformed_rate: float = 0.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.root = root
        self.share = root / "share"
        for directory in (INCOMING, PROCESSED, RECEIPTS):
            (self.share / directory).mkdir(parents=True, exist_ok=True)
        self.office = office
        self.region = office.split(".", 1)[1]
        self.malformed_rate = malformed_rate
        #: Cases the office learned of from its feed (recommended ones it may examine).
        self.cases: list[str] = []
        self._rng = random.Random(seed)  # noqa: S311 - repeatable test data, not secrets
        self._token = f"{self._rng.getrandbits(32):08x}"
        self._now = clock or (lambda: datetime.now(WIB))
        # Dated by the office's clock, never a fixed day: a report dated in the past would be
        # overdue at the hub the moment it arrived (its registration clock runs from its date).
        self._clock = self._now().astimezone(WIB).replace(microsecond=0) - timedelta(seconds=1)
        self._sequence = 0
        self._records = 0
        self._exported: dict[str, list[dict[str, Any]]] = {}  # batch → rows, as meant
        self._corrections: list[dict[str, Any]] = []
        self._receipted: set[str] = set()
        self._lock = threading.RLock()
        self._export_job = SimulatedStaff(f"{office}-office", self._export_run, (OSError,))
        self._outages = (0, 0.0)  # (every this many runs, for this many seconds)
        self._runs = 0

    # -- the export job ------------------------------------------------------------------------

    def follow_case(self, case_id: str) -> None:
        """The office learned of a recommended case; it may now export examinations of it."""
        self.cases.append(case_id)

    def export_batch(
        self,
        count: int,
        *,
        fmt: str | None = None,
        malformed: Mapping[int, str] | None = None,
        values: Mapping[int, Mapping[str, Any]] | None = None,
    ) -> str:
        """Export the next ``count`` records as one complete batch; return its name.

        ``values`` sets columns of rows by row number (from 1), say a test's own values.
        """
        with self.exporting(count, fmt=fmt, malformed=malformed, values=values) as final:
            pass
        return final.name

    @contextmanager
    def exporting(
        self,
        count: int,
        *,
        fmt: str | None = None,
        malformed: Mapping[int, str] | None = None,
        values: Mapping[int, Mapping[str, Any]] | None = None,
    ) -> Iterator[Path]:
        """Export a batch; inside the block it is a half-written ``.part`` file.

        Args:
            count: New records in the batch (corrections of rejected rows come on top).
            fmt: ``csv`` or ``json``; chosen by the seed if None.
            malformed: Row number (from 1) → one of :data:`MALFORMATIONS`; rows not named here
                are malformed at ``malformed_rate``.
            values: Row number (from 1) → columns set to the values given.

        Yields:
            The path the batch has once complete.
        """
        with self._lock:
            fmt = fmt or self._rng.choice(("csv", "json"))
            rows = self._corrections + [self._next_record() for _ in range(count)]
            for number, columns in (values or {}).items():
                rows[number - 1] = rows[number - 1] | dict(columns)
            self._corrections = []
            self._sequence += 1
            name = f"ITDA{self.region}_{self._clock:%Y%m%dT%H%M%S}_{self._sequence:05d}.{fmt}"
            self._exported[name] = rows
            written = [self._malform(row, number, malformed) for number, row in enumerate(rows, 1)]
            data = _csv(written) if fmt == "csv" else self._json(written)
        final = self.share / INCOMING / name
        yield from _write_in_two_parts(final, data)

    def export_unreadable(self, fmt: str, *, nested: bool = False) -> str:
        """Drop a file that is no batch: a workbook saved as CSV, or JSON cut off mid-write.

        ``nested`` JSON is whole but nested deeper than any reader follows (an exporter's bug).
        """
        with self._lock:
            self._sequence += 1
            name = f"ITDA{self.region}_{self._clock:%Y%m%dT%H%M%S}_{self._sequence:05d}.{fmt}"
            if fmt == "csv":
                data = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U\x8f\xd6"
            elif nested:
                data = b'{"records": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
            else:
                full = self._json([self._next_record() for _ in range(3)])
                data = full[: len(full) // 2]
            self._exported[name] = []
        for _ in _write_in_two_parts(self.share / INCOMING / name, data):
            pass
        return name

    def resend(self, name: str, *, changed: bool = False) -> None:
        """Drop a processed batch again: the same bytes, or (``changed``) new rows under its name.

        The office does so when it missed the receipt, or re-exports under a name it reused.
        """
        with self._lock:
            original = self.share / PROCESSED / name
            data = original.read_bytes()
            if changed:
                rows = [self._next_record()]
                data = _csv(rows) if name.endswith(".csv") else self._json(rows)
        for _ in _write_in_two_parts(self.share / INCOMING / name, data):
            pass

    # -- what the office reads back ------------------------------------------------------------

    def receipts(self) -> dict[str, dict[str, Any]]:
        """Every receipt on the share, by batch name."""
        found = {}
        for path in sorted((self.share / RECEIPTS).glob(f"*{RECEIPT_SUFFIX}")):
            receipt = json.loads(path.read_text(encoding="utf-8"))
            found[receipt["batch"]] = receipt
        return found

    def read_receipts(self) -> list[dict[str, Any]]:
        """Read new receipts; queue corrected versions of rejected rows for the next batch."""
        with self._lock:
            new = [r for name, r in self.receipts().items() if name not in self._receipted]
            for receipt in new:
                self._receipted.add(receipt["batch"])
                rows = self._exported.get(receipt["batch"], [])
                for rejected in receipt["rejected"]:
                    if rejected["row"] is not None and rejected["row"] <= len(rows):
                        self._corrections.append(rows[rejected["row"] - 1])
            return new

    def feed(self) -> dict[str, dict[str, Any]]:
        """What the hub wrote to ``feed/`` (``inspektorat-feed``), by file name."""
        folder = self.share / FEED
        if not folder.is_dir():
            return {}
        return {
            path.name: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(folder.glob("*.json"))
        }

    def hub_refusals(self) -> list[dict[str, Any]]:
        """The hub's refusals of the office's events, as the feed holds them."""
        return [document for name, document in self.feed().items() if name.startswith("refused.")]

    def exported(self) -> dict[str, list[dict[str, Any]]]:
        """Every batch exported so far, with the records it was meant to hold (before errors)."""
        with self._lock:
            return {name: list(rows) for name, rows in self._exported.items()}

    def unreceipted(self) -> list[str]:
        """Batches the office exported that have no receipt yet."""
        receipted = self.receipts()
        return [name for name in self._exported if name not in receipted]

    @contextmanager
    def offline(self) -> Iterator[None]:
        """The share is unmounted while inside the block."""
        hidden = self.root / "unmounted-share"
        shutil.move(self.share, hidden)
        try:
            yield
        finally:
            shutil.move(hidden, self.share)

    # -- running on its own (the demo) ---------------------------------------------------------

    def start(self, interval_seconds: float = 10.0, *, outage_every: int = 0) -> None:
        """Export a batch every ``interval_seconds`` in a thread.

        Args:
            interval_seconds: Pause between batches.
            outage_every: Every this many batches the share is gone for two intervals (0: never).
        """
        self._outages = (outage_every, 2 * interval_seconds)
        self._runs = 0
        self._export_job.start(interval_seconds)

    def stop(self) -> None:
        """Stop exporting; the share is mounted when this returns."""
        self._export_job.stop(timeout_seconds=None)

    def _export_run(self) -> None:
        """One run of the export job (an OSError is retried at the next run, as the real one)."""
        self._runs += 1
        every, seconds = self._outages
        if every and self._runs % every == 0:
            with self.offline():
                self._export_job.pause(seconds)
            return
        self.read_receipts()
        self.export_batch(self._rng.randint(1, 4))

    # -- the register --------------------------------------------------------------------------

    def _next_record(self) -> dict[str, Any]:
        # Never ahead of the office's clock: a batch of hundreds, a second apart, was dated
        # minutes in the future, and the hub refuses an event from the future.
        self._clock = max(self._now().astimezone(WIB).replace(microsecond=0), self._clock)
        self._records += 1
        if self.cases and self._rng.random() < 0.4:
            return self._examination()
        return self._report()

    def _report(self) -> dict[str, Any]:
        rng = self._rng
        number = f"{self._records:04d}/LP/ITDA-{self.region}/{self._token[:4]}/{self._clock:%Y}"
        identity = rng.random() < 0.5
        return {
            "record_id": f"LAP-{self._token}-{self._records:05d}",
            "record_type": "report",
            "recorded_at": self._clock,
            "actor_ref": f"officer:{self.region}-{rng.randint(1, 9):02d}",
            "case_number": number,
            "election": "pilkada-2024",
            "region_code": self.region,
            "employing_agency": f"ppk.{self.region}",
            "violation": rng.choice(_VIOLATIONS),
            "discovered_on": (self._clock - timedelta(days=rng.randint(0, 3))).date(),
            "summary": rng.choice(_SUMMARIES),
            "subject_nip": _nip(rng),
            "subject_name": rng.choice(_NAMES),
            # A few people report again and again: the office's reference of each is the same
            # in all their cases (the connector sends a different pseudonym in each).
            "reporter_ref": f"reporter:{self._token}-{rng.getrandbits(48) % REPORTERS:02d}",
            "reporter_identity": f"Pelapor {rng.randint(100, 999)}" if identity else None,
        }

    def _examination(self) -> dict[str, Any]:
        rng = self._rng
        return {
            "record_id": f"BAP-{self._token}-{self._records:05d}",
            "record_type": "examination",
            "recorded_at": self._clock,
            "actor_ref": f"officer:{self.region}-{rng.randint(1, 9):02d}",
            "case_id": rng.choice(self.cases),
            "held_on": (self._clock - timedelta(days=rng.randint(0, 2))).date(),
            "minutes_reference": f"BAP/{self._records:04d}/ITDA/{self._clock:%Y}",
            "subject_attended": rng.random() < 0.9,
            "includes_direct_superior": True,
            "includes_personnel_unit": rng.random() < 0.7,
            "member_refs": [f"officer:{self.region}-{n:02d}" for n in rng.sample(range(1, 20), 2)],
        }

    def _malform(
        self, row: dict[str, Any], number: int, malformed: Mapping[int, str] | None
    ) -> dict[str, Any]:
        kind = (malformed or {}).get(number)
        if kind is None and self._rng.random() < self.malformed_rate:
            kind = self._rng.choice(MALFORMATIONS)
        if kind is None:
            return row
        report = row["record_type"] == "report"
        if kind == "bad_date":
            day = row["discovered_on" if report else "held_on"]
            return row | {"discovered_on" if report else "held_on": f"{day:%d/%m/%Y}"}
        if kind == "unknown_enum":
            return row | {"record_type": "klarifikasi"}
        if kind == "missing_column":  # the line ends before this column
            return row | {"_ends_before": "summary" if report else "minutes_reference"}
        if kind == "bad_value":
            return row | ({"subject_nip": row["subject_nip"][:17]} if report else {"case_id": "-"})
        raise ValueError(f"unknown malformation {kind!r}; one of {', '.join(MALFORMATIONS)}")

    def _json(self, rows: list[dict[str, Any]]) -> bytes:
        records = []
        for row in rows:
            cut = COLUMNS.index(row["_ends_before"]) if "_ends_before" in row else len(COLUMNS)
            records.append(
                {key: _json_value(row[key]) for key in COLUMNS[:cut] if row.get(key) is not None}
            )
        document = {"office": self.office, "exported_at": self._clock.isoformat()}
        return json.dumps(document | {"records": records}, ensure_ascii=False, indent=2).encode()


def _nip(rng: random.Random) -> str:
    """A fictitious 18-digit NIP: birth date, appointment month, sex, sequence."""
    born = date(1970, 1, 1) + timedelta(days=rng.randint(0, 365 * 25))
    appointed = f"{born.year + 25}{rng.randint(1, 12):02d}"
    return f"{born:%Y%m%d}{appointed}{rng.randint(1, 2)}{rng.randint(1, 999):03d}"


def _csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)  # CRLF, as the spreadsheet writes it
    writer.writerow(COLUMNS)
    for row in rows:
        cut = COLUMNS.index(row["_ends_before"]) if "_ends_before" in row else len(COLUMNS)
        writer.writerow([_csv_value(row.get(column)) for column in COLUMNS[:cut]])
    return out.getvalue().encode("utf-8-sig")


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"  # local time, no offset
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _write_in_two_parts(final: Path, data: bytes) -> Iterator[Path]:
    """Write ``data`` to ``final`` via ``<final>.part``: half, a pause (the yield), the rest."""
    partial = final.with_name(f"{final.name}.part")
    with partial.open("wb") as handle:
        handle.write(data[: len(data) // 2])
        handle.flush()
        yield final
        handle.write(data[len(data) // 2 :])
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, final)


def demo_setup(root: Path, *, running: bool = True) -> tuple[InspectorateOffice, dict[str, Any]]:
    """A running office for ``kawal up --demo`` and the connector's configuration for it.

    The office exports a batch every 10 s (one row in ten malformed, corrected after its
    receipt) and drops its share for 20 s every 12 batches. Stop it with ``office.stop()``.
    Not ``running``, it exports only what its caller asks (``export_batch``).
    """
    office = InspectorateOffice(root / "inspektorat.3374", seed=3374, malformed_rate=0.1)
    if running:
        office.start(interval_seconds=10.0, outage_every=12)
    return office, {
        "institution": office.office,
        "drop_dir": str(office.share),
        # The connector's own, off the share the office's staff can read.
        "pseudonym_key_file": str(root / "inspektorat-filedrop" / "pseudonyms.key"),
        "poll_seconds": 2.0,
    }
