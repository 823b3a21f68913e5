"""A report's evidence files judged one by one, so that one refused file drops no other.

:func:`screen` checks the count and total of the files sent with those held for the form
(:mod:`connectors.lapor.holding`), then each file on its own, and cleans the ones accepted
(:mod:`connectors.lapor.metadata`). The first fault is kept to tell the reporter; the files
without fault can then be held while the form is sent back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectors.lapor.holding import Cleaned, HeldFile
from connectors.lapor.media import EvidenceLimits, EvidenceRefusedError, check_file, check_set
from connectors.lapor.metadata import LockedPdfError, MetadataRefusedError, strip

if TYPE_CHECKING:
    from connectors.lapor.intake import Upload


@dataclass(frozen=True)
class Screened:
    """The files sent that can be kept, cleaned, and the first fault of the evidence, if any."""

    files: list[Cleaned]
    fault: EvidenceRefusedError | None


def screen(uploads: Sequence[Upload], held: Sequence[HeldFile], limits: EvidenceLimits) -> Screened:
    """``uploads`` checked with ``held`` against ``limits``, each cleaned of its metadata.

    Too many files, or too large together: none is kept (which to leave out is the reporter's
    choice). A file at fault on its own is left out and named by its place among ``uploads``.

    Raises:
        MetadataUnavailableError: the metadata tool cannot be run.
    """
    try:
        check_set([file.size_bytes for file in held] + [len(u.data) for u in uploads], limits)
    except EvidenceRefusedError as exc:
        return Screened([], exc)
    files: list[Cleaned] = []
    fault: EvidenceRefusedError | None = None
    for index, upload in enumerate(uploads):
        try:
            media_type = check_file(index, upload.data, limits)
            files.append(Cleaned(strip(upload.data, media_type), media_type, upload.name))
        except EvidenceRefusedError as exc:
            fault = fault or exc
        except MetadataRefusedError as exc:
            code = "evidence_locked" if isinstance(exc, LockedPdfError) else "evidence_metadata"
            fault = fault or EvidenceRefusedError(code, str(exc), index)
    return Screened(files, fault)
