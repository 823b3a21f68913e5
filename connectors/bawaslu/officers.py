"""Bawaslu's officers in the demo: new public reports now and then, each handled by its plan.

Every ``interval`` seconds the officers record a public report (dated now, learnt of the day
before) through the webhook; each such report, and each report the hub delivers to Bawaslu's
system that Bawaslu must register (the portal's, and those no Bawaslu office filed, such as the
inspectorate's), then goes the way :func:`connectors.demo_pace.bawaslu_plan` says: not
registered (with the reason), registered and found not proven, or registered, proven and
referred to the recommending authority, each step after the plan's wait. Each case waits in a
thread of its own, so a case left waiting holds up no other; a wait costs no CPU.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from connectors.bawaslu.simulator import BawasluSystem
from connectors.demo_pace import CasePlan, bawaslu_plan
from connectors.simulation import SimulatedStaff
from schemas.identity import case_id_for

log = logging.getLogger(__name__)


class BawasluOfficers:
    """The officers of a :class:`BawasluSystem`, handling reports at the demo's pace.

    Args:
        system: Bawaslu's system, whose webhook posts carry the officers' steps.
        min_wait_seconds: The shortest wait before a step (a reporter watching its tracking
            page sees each step arrive).
        wait_scale: Each wait of a plan multiplied by it (a test's 0: no wait at all).
    """

    def __init__(
        self, system: BawasluSystem, *, min_wait_seconds: float = 10.0, wait_scale: float = 1.0
    ) -> None:
        self.system = system
        self.min_wait_seconds = min_wait_seconds
        self.wait_scale = wait_scale
        self._reports = 0
        self._stop = threading.Event()
        self._desk = SimulatedStaff("bawaslu-officers", self.record_report, (RuntimeError,))

    def start(self, interval_seconds: float) -> None:
        """Handle the portal's reports, and record a report of their own every interval."""
        self._stop.clear()
        self.system.handle_web_reports_with(self.handle)
        self._desk.start(interval_seconds)

    def stop(self) -> None:
        """Stop recording reports and release every case waiting for its next step."""
        self._stop.set()
        self._desk.stop()

    def record_report(self) -> None:
        """Record one public report now; its steps follow in a thread by its plan."""
        report = self.system.report()
        self.system.send(report)
        number = str(report["case_number"])
        case_id = case_id_for(self.system.institution, number)
        plan = bawaslu_plan(case_id, self._reports)
        self._reports += 1
        threading.Thread(
            target=self._follow, args=(number, case_id, plan), name="bawaslu-case", daemon=True
        ).start()

    def handle(self, case_id: str, number: str) -> None:
        """Handle a report the hub delivered (the portal's, an inspectorate's) by its plan."""
        self._follow(number, case_id, bawaslu_plan(case_id))

    def _follow(self, number: str, case_id: str, plan: CasePlan) -> None:
        for wait, step in zip(plan.waits, self._steps(plan), strict=False):
            if self._stop.wait(max(wait * self.wait_scale, self.min_wait_seconds)):
                return
            try:
                self.system.send(step(number, case_id=case_id))
            except RuntimeError as exc:  # names the post's id and the webhook's answer only
                log.warning("bawaslu-officers: a report was left unhandled: %s", exc)
                return

    def _steps(self, plan: CasePlan) -> list[Callable[..., dict[str, Any]]]:
        """The posts the plan takes a report through, in order."""
        system = self.system
        if plan.outcome == "not_registered":
            reason, explanation = plan.rejection
            return [
                lambda number, **more: system.rejection(
                    number, reason=reason, explanation=explanation, **more
                )
            ]
        if plan.outcome == "not_proven":
            return [
                system.registration,
                lambda number, **more: system.verification(number, proven=False, **more),
            ]
        return [system.registration, system.verification, system.referral]
