"""Every reference connector against its simulator, for ``kawal up --demo``.

Bawaslu's system plays a case through the webhook (report, registration, verification,
referral); BKN's case-management staff recommend on the referrals delivered to their database
and close cases once sanctioned; the PPK's office signs a decree for each recommendation the
hub delivers to its registry (``ppk-inbox``); SIASN blocks the personnel data of a civil
servant whose PPK let the follow-up deadline pass, records the sanction and lifts the block,
and BKN reports each block and its lifting back to the hub (``siasn-blocks``); the
inspectorate office exports batches of reports; the public reports through Bawaslu Jawa
Tengah's portal (``connectors.lapor.demo``, on ``http://127.0.0.1:8090/`` when ``kawal up``
runs the embedded storage), and Bawaslu's officers register, verify and refer each such report,
and each of the inspectorate's, once the hub delivered it to their system.
Everything between those systems travels through the hub.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.errors import ConnectorError
from connectors.host import build, run_connector
from monitoring.connectors import ConnectorMetrics
from schemas.identity import case_id_for
from streams import logs
from streams.broker.credentials import PLAINTEXT, BrokerCredentials

if TYPE_CHECKING:
    from connectors.bawaslu.simulator import BawasluSystem

log = logging.getLogger(__name__)

#: Seconds between the staff rounds of the authority's and the PPK's simulated offices.
OFFICE_ROUND_SECONDS = 2.0
#: The shortest wait of Bawaslu's officers before a step on a report: long enough for a
#: reporter watching the tracking page to see each step arrive.
WEB_REPORT_PAUSE_SECONDS = 10.0
#: Seconds between the public reports Bawaslu's officers record in the demo.
NEW_REPORT_SECONDS = 45.0


class DemoSystems:
    """The running simulators and the configuration of each connector, by name.

    Args:
        root: Folder of the simulators' files.
        scripted: The systems act only when their caller makes them, and fail on no request:
            no office exports or staff rounds of their own, no drawn faults. A test drives each
            step then, knowing what each system sent (the canary battery does).
    """

    def __init__(self, root: Path, *, scripted: bool = False) -> None:
        from connectors.authority.simulator import demo_setup as authority_setup
        from connectors.bawaslu.officers import BawasluOfficers
        from connectors.bawaslu.simulator import demo_setup as bawaslu_setup
        from connectors.inspektorat.simulator import demo_setup as inspektorat_setup
        from connectors.lapor.demo import demo_configs as lapor_configs
        from connectors.ppk.simulator import demo_setup as ppk_setup
        from connectors.siasn.simulator import demo_setup as siasn_setup

        self.configs: dict[str, dict[str, Any]] = {}
        self._stops: list[Callable[[], None]] = []
        self.bawaslu, configs = bawaslu_setup(root)
        self._add(self.bawaslu.stop, configs)
        self.officers = BawasluOfficers(self.bawaslu, min_wait_seconds=WEB_REPORT_PAUSE_SECONDS)
        self._add(self.officers.stop, {})
        self.siasn, configs = siasn_setup(root)
        self._add(self.siasn.stop, configs)
        self.office, config = inspektorat_setup(root, running=not scripted)
        feed = {"institution": config["institution"], "drop_dir": config["drop_dir"]}
        self._add(self.office.stop, {"inspektorat-filedrop": config, "inspektorat-feed": feed})
        self.authority, configs = authority_setup(root)
        self._add(self.authority.stop, configs)
        self.registry, configs = ppk_setup(root)
        self._add(self.registry.stop, configs)
        self._add(lambda: None, lapor_configs(root))  # the portal: only on the embedded S3
        if scripted:
            self.bawaslu.unavailable_rate = self.bawaslu.timeout_rate = 0.0
            self.siasn.rates = (0.0, 0.0, 0.0)
            self.office.malformed_rate = 0.0
        else:
            self.officers.start(NEW_REPORT_SECONDS)
            self.authority.start(OFFICE_ROUND_SECONDS)
            self.registry.start(OFFICE_ROUND_SECONDS)

    def _add(self, stop: Callable[[], None], configs: dict[str, dict[str, Any]]) -> None:
        self._stops.append(stop)
        self.configs.update(configs)

    def play_bawaslu_case(self) -> None:
        """Bawaslu's officers record one case, post by post, through the webhook.

        A case BKN's staff and the PPK's office handle at once (:func:`quick_case`): a newcomer
        sees a whole case go through within a minute or two, before the slower ones.
        """
        for post in quick_case(self.bawaslu):
            self.bawaslu.send(post)

    def stop(self) -> None:
        """Stop every simulator."""
        for stop in reversed(self._stops):
            try:
                stop()
            except Exception as exc:  # stop the others whatever one does
                log.warning("a simulator failed to stop: %s", type(exc).__name__)


def quick_case(bawaslu: BawasluSystem) -> list[dict[str, Any]]:
    """The posts of a whole Bawaslu case the other offices' pace handles at once."""
    from connectors.demo_pace import WAITS, authority_wait, ppk_wait

    while True:  # one case number in nine or so is such a case: a few tries
        posts = bawaslu.case()
        case_id = case_id_for(bawaslu.institution, posts[0]["case_number"])
        if authority_wait(case_id) == ppk_wait(case_id) == WAITS[0]:
            return posts


def run_demo(
    bootstrap: list[str],
    home: Path,
    stop: threading.Event,
    credentials: BrokerCredentials = PLAINTEXT,
    metrics: ConnectorMetrics | None = None,
    inbox_hub: dict[str, Any] | None = None,
) -> None:
    """Run the simulators and every reference connector until ``stop`` is set.

    ``inbox_hub``: the settings with which ``ppk-inbox`` reads the subject of a case from the
    hub's trail (``hub_url``, ``token_file``); none: it reads subjects from its feed only.
    """
    metrics = metrics or ConnectorMetrics()
    systems = DemoSystems(home / "simulators")
    systems.configs["ppk-inbox"] |= inbox_hub or {}
    history = _ppk_history(systems, home)
    recommended = _authority_history(systems)
    failed: list[str] = []
    threads = [
        threading.Thread(
            target=stopping_all_on_failure(name, run_connector, stop, failed),
            args=(build(name, config), bootstrap, home, stop, credentials),
            kwargs={"metrics": metrics},
            name=f"connector-{name}",
            daemon=True,
        )
        for name, config in systems.configs.items()
    ]
    try:
        for thread in threads:
            thread.start()
        systems.play_bawaslu_case()
        log.info("kawal: demo connectors running: %s", ", ".join(systems.configs))
        if history:
            log.info("kawal: the demo PPK's registry holds the history's %d decrees", history)
        if recommended:
            log.info(
                "kawal: the demo authority's register holds the history's %d recommended cases",
                recommended,
            )
        stop.wait()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        systems.stop()
    if failed:
        raise ConnectorError(
            f"the demo connector {', '.join(failed)} failed and the others stopped with it; "
            "its log above says where"
        )


def _ppk_history(systems: DemoSystems, home: Path) -> int:
    """Put the decrees the history says the PPK signed into its registry (a new one only).

    Before any connector runs: ``ppk-decrees`` starts after them, and the office files the
    history's recommendations with them instead of drafting second decrees.
    """
    from connectors.ppk.demo_history import record_history

    return record_history(systems.registry, systems.configs["ppk-decrees"]["institution"], home)


def _authority_history(systems: DemoSystems) -> int:
    """Put the cases the history says the authority recommended on into its register (a new one).

    Before any connector runs: its staff then never recommend again on a referral the history
    recommended on, whichever of the two ``authority-status`` delivers first.
    """
    from connectors.authority.demo_history import record_history

    institution = systems.configs["authority-status"]["institution"]
    return record_history(systems.authority, institution)


def stopping_all_on_failure(
    name: str, run: Callable[..., None], stop: threading.Event, failed: list[str]
) -> Callable[..., None]:
    """``run``, which on an unexpected failure logs it, notes ``name`` and sets ``stop``.

    A connector thread that died alone would leave the demo running without it and say
    nothing more. The log names the exception type and frames only: a connector's exception
    can quote the personal data it was handling.
    """

    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            run(*args, **kwargs)
        except Exception as exc:
            log.critical(
                "demo connector %s failed with %s; stopping the demo connectors\n%s",
                name,
                logs.failure_name(exc),
                logs.frames(exc.__traceback__),
            )
            failed.append(name)
            stop.set()

    return guarded
