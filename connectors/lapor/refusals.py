"""What the portal answers to a request it refuses before reading a report: code, id, en.

Each message says what to do, in the request's language, and quotes nothing that was sent.
"""

from __future__ import annotations

from connectors.lapor.media import EvidenceLimits

_MB = 1024 * 1024


def too_large(limits: EvidenceLimits) -> tuple[str, str, str]:
    """The refusal of a request over the size limit, naming the evidence limits."""
    total, files, size = (
        limits.max_total_bytes // _MB,
        limits.max_files,
        limits.max_file_bytes // _MB,
    )
    return (
        "too_large",
        f"Kiriman terlalu besar: semua berkas bukti bersama paling banyak {total} MB "
        f"({files} berkas, masing-masing paling banyak {size} MB). Kirim berkas yang lebih "
        "kecil atau lebih sedikit.",
        f"The request is too large: all evidence files together may hold at most {total} MB "
        f"({files} files of at most {size} MB each). Send smaller or fewer files.",
    )


TOO_MANY = (
    "rate_limited",
    "Terlalu banyak permintaan dari alamat Anda. Coba lagi sebentar lagi.",
    "Too many requests from your address. Try again in a while.",
)
CROSS_SITE = (
    "cross_site",
    "Laporan hanya diterima dari formulir di situs ini.",
    "Reports are taken from this site's own form only.",
)
NOT_JSON = (
    "malformed_json",
    "Isi permintaan bukan objek JSON.",
    "The body is not a JSON object.",
)
NOT_FORM = (
    "malformed_form",
    "Isian formulir tidak terbaca sebagai teks UTF-8; kirim ulang dari formulir ini.",
    "The form's fields cannot be read as UTF-8 text; send them again from this form.",
)
TOO_SLOW = (
    "too_slow",
    "Kiriman datang terlalu lambat dan dihentikan. Periksa sambungan Anda, lalu kirim lagi.",
    "The request came too slowly and was stopped. Check your connection, then send it again.",
)
NOT_A_FORM = (
    "not_a_form",
    "Kirim laporan dari formulir di halaman ini; aplikasi mengirim JSON ke /api/v1/reports.",
    "Send the report from the form on this page; an application sends JSON to /api/v1/reports.",
)
BAD_EVIDENCE = (
    "invalid_evidence",
    "evidence harus berupa daftar {name, content_base64}.",
    "evidence must be a list of {name, content_base64}.",
)
TRACKING_DOWN = (
    "tracking_unavailable",
    "Pelacakan tidak dapat dibuka saat ini. Silakan coba lagi beberapa saat lagi.",
    "Tracking is not available right now. Please try again in a while.",
)
UNKNOWN_CODE = (
    "unknown_code",
    "Kode pelacakan tidak dikenal.",
    "Unknown tracking code.",
)
