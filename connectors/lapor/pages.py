"""The portal's pages, rendered with the shared templates (Indonesian first, English asked).

What a page shows of a case is what the reporter is entitled to: the steps and their dates,
in the region's time zone; never a name, a decision's reasons or another party's data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from connectors.lapor import refusals
from connectors.lapor.filing import FILING_WORKING_DAYS, Standing, jakarta_today
from connectors.lapor.filing_words import sent_late_words
from connectors.lapor.holding import HOLD_SECONDS
from connectors.lapor.intake import Accepted, IntakeRefusedError
from connectors.lapor.media import EvidenceLimits
from connectors.lapor.resubmission import new_form_token, valid_form_token
from connectors.lapor.steps import StepText, load_steps
from connectors.lapor.submission import MIN_SUMMARY, Rules, reporters_today, violation_codes
from connectors.lapor.tracking import Tracked
from streams.domain.institutions import Institution
from streams.domain.zones import Province, provinces
from streams.web.locales import Locale
from streams.web.templating import Templates

#: The steps of a case before Bawaslu decided on registering it (``data/steps.toml``).
_BEFORE_REGISTRATION = frozenset({"not_forwarded", "received"})


@dataclass(frozen=True)
class ShownStep:
    """One step as a page shows it."""

    code: str
    title: str
    at: Any


class Pages:
    """Renders the portal's pages."""

    def __init__(
        self,
        rules: Rules,
        limits: EvidenceLimits,
        agencies: list[Institution],
        office: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.rules = rules
        self.clock = clock
        """Today's date on the form (the filing rule's limit), as the intake's clock."""
        self.limits = limits
        self.agencies = sorted(agencies, key=lambda agency: agency.name)
        self.office = office
        """The office's name, on every page: a reporter sees whom the report goes to."""
        self._templates = Templates("connectors.lapor")

    def _render(self, name: str, locale: Locale, **context: Any) -> str:
        return self._templates.render(name, locale, office=self.office, **context)

    def form(
        self,
        locale: Locale,
        fields: dict[str, str],
        refusal: IntakeRefusedError | None,
    ) -> str:
        """The report form, with what was entered and its faults after a refusal.

        After a refusal, the files held for the form are listed, ticked, to be sent with it
        (:mod:`connectors.lapor.holding`); files chosen but not held, which a page cannot
        fill in again (a browser lets only the reporter choose files), are asked for again.
        """
        now = self.clock()
        return self._render(
            "form.html",
            locale,
            fields=fields,
            window=self.rules.filing.window(jakarta_today(now)),
            filing_days=FILING_WORKING_DAYS,
            min_summary=MIN_SUMMARY,
            latest_day=reporters_today(now, self.rules.jurisdiction),
            late_ok=fields.get("late_ok", "").lower() in ("true", "on"),
            # The same token again after a refusal: the form is still the one the page gave.
            form_token=valid_form_token(fields.get("form_token")) or new_form_token(),
            anonymous=not fields or fields.get("anonymous", "").lower() in ("true", "on"),
            refusal=refusal,
            held=refusal.held if refusal else [],
            hold_minutes=HOLD_SECONDS // 60,
            files_again=bool(refusal and refusal.not_kept),
            again=refusal.again if refusal else [],
            lost_kept=max(refusal.not_kept - len(refusal.again), 0) if refusal else 0,
            problems=refusal.problems if refusal else [],
            agencies=self.agencies,
            violations=violation_codes(),
            elections=self.rules.elections,
            jurisdiction=self.rules.jurisdiction,
            provinces=provinces_of(self.rules.jurisdiction),
            limits=self.limits,
        )

    def accepted(self, locale: Locale, accepted: Accepted) -> str:
        """The page showing the tracking code, once."""
        note = sent_late_words(accepted.filing.standing, locale)
        return self._render("accepted.html", locale, accepted=accepted, late_note=note)

    def ask_code(self, locale: Locale, *, problem: str | None = None, typed: str = "") -> str:
        """The form asking for a tracking code; after a wrong one, saying so and keeping it.

        Args:
            locale: the reader's language.
            problem: ``"empty"`` (no code sent), ``"unknown"`` (no report has it),
                ``"length"`` or ``"character"`` (it cannot be a code:
                :func:`~connectors.lapor.codes.code_fault`) or None.
            typed: what was sent, shown again to be corrected.
        """
        return self._render("ask_code.html", locale, problem=problem, typed=typed)

    def refusal(self, locale: Locale, refusal: IntakeRefusedError) -> str:
        """A page saying why a request was refused."""
        cut_off = refusal.code in refusals.CUT_OFF
        return self._render("refusal.html", locale, refusal=refusal, cut_off=cut_off)

    def status(self, locale: Locale, code: str, tracked: Tracked) -> str:
        """The tracking page of a case."""
        return self._render("status.html", locale, code=code, **_steps(tracked, locale))

    def steps(self, locale: Locale, tracked: Tracked) -> str:
        """The steps' part of the tracking page (what the live stream sends)."""
        return self._render("steps.html", locale, **_steps(tracked, locale))

    def status_json(self, locale: Locale, tracked: Tracked) -> dict[str, Any]:
        """The steps as the JSON API answers them."""
        parts = _steps(tracked, locale)
        return {
            "status": parts["current"].title,
            "next": parts["current"].next,
            "steps": [
                {"step": s.code, "title": s.title, "at": s.at.isoformat()} for s in parts["steps"]
            ],
            "filing": filing_json(tracked.standing, locale),
        }

    def script(self, name: str) -> str:
        """A page's script (:data:`~connectors.lapor.web.SCRIPTS`), by its file name."""
        return resources.files("connectors.lapor").joinpath("templates", name).read_text()


def filing_json(standing: Standing, locale: Locale) -> dict[str, str | None]:
    """A report's standing under the filing rule as the JSON API answers it."""
    return {"standing": standing.value, "message": sent_late_words(standing, locale)}


def provinces_of(jurisdiction: str) -> list[Province]:
    """The provinces an office of ``jurisdiction`` takes reports of, by name (all: Bawaslu RI)."""
    found = [row for code, row in provinces().items() if code.startswith(jurisdiction[:2])]
    return sorted(found, key=lambda province: province.name)


def _steps(tracked: Tracked, locale: Locale) -> dict[str, Any]:
    known = load_steps()
    shown = [
        ShownStep(step.step, known[step.step].text(locale).title, step.at)
        for step in tracked.steps
        if step.step in known
    ]
    current = known[shown[-1].code].text(locale) if shown else _sent(locale)
    # Whether Bawaslu may register a late report is moot once it did or did not.
    undecided = all(step.code in _BEFORE_REGISTRATION for step in shown)
    note = sent_late_words(tracked.standing, locale) if undecided else None
    return {"tracked": tracked, "steps": shown, "current": current, "late_note": note}


def _sent(locale: Locale) -> StepText:
    if locale == "en":
        return StepText("Report sent", "The report is on its way to Bawaslu's case system.")
    return StepText("Laporan terkirim", "Laporan sedang diteruskan ke sistem penanganan Bawaslu.")
