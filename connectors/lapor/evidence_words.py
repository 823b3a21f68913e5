"""What the portal tells a reporter of evidence it does not take: Indonesian and English.

Each message says what to do and names a file by its place in the list, never by the name
the reporter's device gave it (it may name a person).
"""

from __future__ import annotations

from connectors.lapor.holding import HOLD_SECONDS
from connectors.lapor.media import EvidenceLimits, EvidenceRefusedError

_MB = 1024 * 1024


def refused_evidence_words(
    exc: EvidenceRefusedError, limits: EvidenceLimits
) -> tuple[int, str, str]:
    """The status and the words of a refusal of evidence, in Indonesian and English."""
    # Not the reporter's file name (it may name a person): its place in the list.
    at = "" if exc.index is None else f" ke-{exc.index + 1}"
    of = "" if exc.index is None else f" {exc.index + 1}"
    total, size = limits.max_total_bytes // _MB, limits.max_file_bytes // _MB
    status, indonesian, english = {
        "evidence_type": (
            415,
            f"Berkas bukti{at} bukan foto, video, PDF atau teks: kirim foto (JPEG, PNG, WebP, "
            "HEIC), video (MP4, MOV), PDF atau teks.",
            f"Evidence file{of} is not a photo, video, PDF or text: send a photo (JPEG, PNG, "
            "WebP, HEIC), a video (MP4, MOV), a PDF or a text file.",
        ),
        "evidence_too_many": (
            413,
            f"Terlalu banyak berkas bukti: paling banyak {limits.max_files} berkas per laporan.",
            f"Too many evidence files: at most {limits.max_files} per report.",
        ),
        "evidence_too_large": (
            413,
            f"Berkas bukti{at} lebih dari {size} MB: kirim versi yang lebih kecil."
            if exc.index is not None
            else f"Berkas bukti bersama lebih dari {total} MB: kirim lebih sedikit atau lebih "
            "kecil.",
            f"Evidence file{of} is over {size} MB: send a smaller version."
            if exc.index is not None
            else f"The evidence files are over {total} MB together: send fewer or smaller ones.",
        ),
        "evidence_metadata": (
            400,
            f"Data yang dapat mengenali Anda (lokasi, kamera, penulis) tidak dapat dihapus dari "
            f"berkas bukti{at}, jadi laporan belum disimpan: kirim tangkapan layarnya, simpan "
            "atau ekspor ulang berkasnya, atau kirim tanpa berkas itu.",
            f"The details that could identify you (location, camera, author) could not be "
            f"removed from evidence file{of}, so the report was not kept yet: send a screenshot "
            "of it, save or export the file again, or send without it.",
        ),
        "evidence_locked": (
            400,
            f"Berkas bukti{at} dikunci dengan kata sandi, jadi isinya tidak dapat dibaca: "
            "simpan tanpa kata sandi lalu kirim lagi, kirim tangkapan layarnya, atau kirim tanpa "
            "berkas itu.",
            f"Evidence file{of} is locked with a password, so nothing of it can be read: save "
            "it without the password and send it again, send a screenshot of it, or send "
            "without it.",
        ),
        "evidence_empty": (
            400,
            f"Berkas bukti{at} kosong: pilih berkas lain atau kirim tanpa berkas itu.",
            f"Evidence file{of} is empty: choose another file or send without it.",
        ),
    }[exc.code]
    return status, indonesian, english


def not_held_words() -> tuple[str, str]:
    """What to do when kept files are no longer held for a form (expired, or another form's)."""
    minutes = HOLD_SECONDS // 60
    return (
        f"Berkas bukti yang disimpan untuk formulir ini sudah tidak ada: berkas disimpan "
        f"paling lama {minutes} menit. Pilih lagi berkasnya di bawah, lalu kirim laporan.",
        f"The evidence files kept with this form are no longer there: files are kept for "
        f"{minutes} minutes at most. Choose the files again below, then send the report.",
    )
