"""A form posted without its token: an old page the browser kept, a page saved to read offline.

Each rendered form carries a token (:mod:`connectors.lapor.resubmission`): it makes the same
form sent twice one report, and it is the key the files held for a form sent back are bound
to (:mod:`connectors.lapor.holding`). A form whose token is missing or of another shape (a
page from before tokens, a copy whose hidden field was lost or damaged) used to be sent back
saying only to choose its files again, for no reason the reporter could see: its files could
not be held without a token, and files held for its earlier page could not be found.

So such a form is given a fresh token before it is read (:func:`renew`): one that passes is
accepted as any other, and one sent back has its files held under the new token like any
form's, and says what happened (:func:`explained`). Everything the reporter typed comes back
in the form. Files held for the earlier page stay out of reach (only that page's token opens
them, and their names are sealed under it), so the page asks for them again, as the earlier
page listed them; a form naming them is never accepted without them.
"""

from __future__ import annotations

from dataclasses import replace

from connectors.lapor.field_reader import Problem
from connectors.lapor.intake import IntakeRefusedError
from connectors.lapor.resubmission import new_form_token, valid_form_token

#: What happened, before the reason the form was sent back (Indonesian, English).
LOST = (
    "Formulir ini dikirim dari salinan halaman yang lama atau yang disimpan, tanpa kode "
    "formulirnya, jadi laporan belum terkirim. Semua yang Anda ketik ada di bawah; periksa, "
    "lalu kirim lagi dari halaman ini.",
    "This form was sent from an old or saved copy of the page, without its form code, so the "
    "report is not sent yet. Everything you typed is below; check it, then send it again from "
    "this page.",
)
#: The files held for the earlier page, which a copy without its code cannot reach.
HELD_LOST = (
    "Berkas bukti yang disimpan untuk halaman sebelumnya tidak dapat dipakai dari salinan ini: "
    "pilih lagi berkas yang tercantum di halaman itu, lalu kirim laporan.",
    "The evidence files kept for the earlier page cannot be used from this copy: choose the "
    "files that page listed again, then send the report.",
)


def renew(fields: dict[str, str]) -> bool:
    """Give the form ``fields`` a fresh token if it has none valid; True when it had none."""
    if valid_form_token(fields.get("form_token")) is not None:
        return False
    fields["form_token"] = new_form_token()
    return True


def explained(refusal: IntakeRefusedError) -> IntakeRefusedError:
    """``refusal`` of a form that came without its token, saying so and what to do."""
    indonesian, english = refusal.indonesian, refusal.english
    if refusal.code == "evidence_not_held":  # not expired: out of this copy's reach
        indonesian, english = HELD_LOST
    problems = [
        Problem(problem.field, problem.code, *HELD_LOST)
        if problem.code == "evidence_not_held"
        else problem
        for problem in refusal.problems
    ]
    return replace(
        refusal,
        indonesian=f"{LOST[0]} {indonesian}",
        english=f"{LOST[1]} {english}",
        problems=problems,
    )
