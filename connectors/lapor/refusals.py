"""What the portal answers to a request it refuses before reading a report: code, id, en.

Each message says what to do, in the request's language, and quotes nothing that was sent.
"""

from __future__ import annotations

import math

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


NOT_FOUND = (
    "not_found",
    "Halaman ini tidak ada. Periksa alamatnya, atau mulai lagi dari formulir laporan atau "
    "halaman pelacakan.",
    "This page does not exist. Check its address, or start again from the report form or the "
    "tracking page.",
)
#: A method the address does not take (a form sent to the tracking page's address, say).
WRONG_METHOD = (
    "method_not_allowed",
    "Alamat ini tidak menerima kiriman seperti itu. Mulai lagi dari formulir laporan atau "
    "halaman pelacakan.",
    "This address does not take that kind of request. Start again from the report form or the "
    "tracking page.",
)


#: A request the server could not parse (:mod:`streams.web.malformed`); it quotes nothing sent.
MALFORMED = (
    "malformed_request",
    "Permintaan ini tidak dapat dibaca. Muat ulang halaman atau mulai lagi dari formulir "
    "laporan atau halaman pelacakan.",
    "This request could not be read. Reload the page, or start again from the report form or "
    "the tracking page.",
)


def wait_words(seconds: int) -> tuple[str, str]:
    """``seconds`` as a reader counts them, in Indonesian and English: seconds, minutes, hours."""
    if seconds < 60:
        return f"{seconds} detik", f"{seconds} second{'s' * (seconds != 1)}"
    if seconds < 2 * 3600:
        minutes = math.ceil(seconds / 60)
        return f"{minutes} menit", f"{minutes} minute{'s' * (minutes != 1)}"
    hours = math.ceil(seconds / 3600)
    return f"{hours} jam", f"{hours} hours"


def too_many(seconds: int) -> tuple[str, str, str]:
    """The refusal of a source over its rate limit, saying how long to wait.

    Args:
        seconds: until every limit the source spent has room again (``Retry-After``).
    """
    wait_id, wait_en = wait_words(seconds)
    return (
        "rate_limited",
        f"Terlalu banyak permintaan dari alamat Anda. Coba lagi dalam {wait_id}.",
        f"Too many requests from your address. Try again in {wait_en}.",
    )


def too_many_streams(seconds: int) -> tuple[str, str, str]:
    """The refusal of one live tracking page more than a source may hold open.

    Args:
        seconds: until the oldest of them ends by itself (``Retry-After``).
    """
    wait_id, wait_en = wait_words(seconds)
    return (
        "rate_limited",
        "Terlalu banyak halaman pelacakan terbuka dari alamat Anda. Tutup salah satunya, atau "
        f"coba lagi dalam {wait_id}.",
        f"Too many tracking pages are open from your address. Close one, or try again in "
        f"{wait_en}.",
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
#: A body that stalled or fell under the slowest pace taken (:mod:`connectors.lapor.pacing`).
TOO_SLOW = (
    "too_slow",
    "Kiriman terhenti atau datang terlalu lambat, lalu dihentikan. Periksa sambungan Anda, "
    "lalu kirim lagi; pada sambungan yang lemah, kirim berkas bukti yang lebih sedikit atau "
    "lebih kecil.",
    "The request stalled or came too slowly and was stopped. Check your connection, then send "
    "it again; on a weak connection, send fewer or smaller evidence files.",
)


def slow_busy(seconds: int) -> tuple[str, str, str]:
    """A slow body while every slot for slow bodies of its source or of the portal is taken.

    Args:
        seconds: until a slot is expected to be free (``Retry-After``,
            :meth:`~connectors.lapor.pacing.SlowBodies.free_in`).
    """
    wait_id, wait_en = wait_words(seconds)
    return (
        "slow_busy",
        "Saat ini terlalu banyak kiriman lambat sedang diterima, jadi kiriman Anda dihentikan. "
        f"Kirim lagi dalam {wait_id}, atau dari sambungan yang lebih cepat.",
        "Too many slow requests are being received right now, so yours was stopped. Send it "
        f"again in {wait_en}, or from a faster connection.",
    )


#: The refusals of a body cut off while it came: its form's text is still in the browser.
CUT_OFF = frozenset({TOO_SLOW[0], "slow_busy"})
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
#: Seconds a client is told to wait (``Retry-After``) when a store of the portal (the spool,
#: the tracking store, the evidence store) cannot be used: how long the fault lasts is not
#: known, so not a promise. Half a minute: a lock or a restarting store has passed by then as
#: a rule, and a reporter waiting on the page is not sent away for long.
STORE_RETRY_SECONDS = 30
TRACKING_DOWN = (
    "tracking_unavailable",
    "Pelacakan tidak dapat dibuka saat ini. Silakan coba lagi dalam "
    f"{wait_words(STORE_RETRY_SECONDS)[0]}.",
    "Tracking is not available right now. Please try again in "
    f"{wait_words(STORE_RETRY_SECONDS)[1]}.",
)
UNKNOWN_CODE = (
    "unknown_code",
    "Kode pelacakan tidak dikenal.",
    "Unknown tracking code.",
)
