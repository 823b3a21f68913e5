"""A PDF rewritten without what names its author: document information, XMP, piece info.

A PDF's document information (``/Info``: Author, Creator, Producer, Title, dates) and its XMP
packets (``/Metadata`` of the catalogue, of a page, of an image) name who wrote it, on which
machine and when. exiftool cannot remove them for good: it appends an incremental update and
the old objects stay in the file, readable by anyone. pikepdf (qpdf) writes the file anew with
only the objects still referenced, so what is deleted here is gone. Content streams, fonts and
images are copied as they are: the pages read and print the same.

Run as ``python -m connectors.lapor.pdf_metadata`` (the PDF on standard input, the clean PDF on
standard output, exit status 1 and one line on standard error when it cannot be read) so that
the portal can bound it in time and keep a malformed file's parser out of its own process
(:mod:`connectors.lapor.metadata`).
"""

from __future__ import annotations

import io
import sys

import pikepdf

#: The exit status of a PDF locked with a password to open it.
LOCKED = 3
#: Keys of a dictionary that carry metadata rather than content.
_METADATA_KEYS = ("/Metadata", "/PieceInfo")


class DamagedPdfError(ValueError):
    """A PDF that reads only once repaired, which may have lost its content on the way."""


def clean(data: bytes) -> bytes:
    """``data``, a PDF, without document information, XMP packets and piece info.

    The file identifier (``/ID``) is made anew from the clean content, so the same file gives
    the same bytes (a form sent twice is one report) and no identifier of the author's copy,
    which a PDF keeps across its editions, is left.

    Raises:
        pikepdf.PdfError: not a PDF pikepdf can read (damaged beyond repair, or encrypted with
            a password to open it).
        DamagedPdfError: a PDF qpdf could read only by repairing it (cut short, its cross
            references lost): the repair can leave pages blank, so it is not kept as evidence.
    """
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if pdf.get_warnings():
            # Their text may quote the file's strings: not passed on.
            raise DamagedPdfError("the PDF is damaged: qpdf had to repair it to read it")
        for key in ("/Info", "/ID"):  # the ID's first half is the author's copy's for good
            if key in pdf.trailer:
                del pdf.trailer[key]
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                for key in _METADATA_KEYS:
                    if key in obj:
                        del obj[key]
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
        return out.getvalue()


def main() -> int:
    """Clean the PDF on standard input to standard output; 1 when it cannot be read.

    :data:`LOCKED` when it is locked with a password: the reporter can unlock it.
    """
    try:
        cleaned = clean(sys.stdin.buffer.read())
    except pikepdf.PasswordError:
        print("the PDF is locked with a password", file=sys.stderr)
        return LOCKED
    except (pikepdf.PdfError, ValueError, RuntimeError) as exc:
        # The type only: qpdf's message may quote the file's own strings.
        print(f"not a readable PDF ({type(exc).__name__})", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(cleaned)
    return 0


if __name__ == "__main__":
    sys.exit(main())
