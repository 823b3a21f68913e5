"""The hub at rest: how long ``kawal up`` takes to be up, then its CPU and memory idle.

Runs ``kawal up`` as a user would (durable storage unless told otherwise) on a fresh home,
twice: the first start creates every topic, the second finds them. After the second start (and
the demo cases, when asked) it waits for the hub to settle, then samples every process of the
tree (storage, broker, worker, sink) over a window with nothing published.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.cpu_split import cpu_while, role_of
from streams.local.processes import free_port
from streams.local.storage import free_storage_base_port

#: Seconds to wait for ``kawal up`` to announce the hub.
START_LIMIT_SECONDS = 180.0
#: What ``kawal up`` prints once the hub is up (:func:`streams.local.supervisor.run_up`).
ANNOUNCED = b"kawal: hub is up"
#: Seconds left for start-up work (recovery, first heads) to end, and for the consumers to
#: reach their quiet Fetch wait (a minute without records), before sampling.
SETTLE_SECONDS = 70.0
#: Seconds over which CPU is sampled at rest.
SAMPLE_SECONDS = 30.0


@dataclass(frozen=True)
class AtRest:
    """What one measurement found.

    Attributes:
        first_start_seconds: ``kawal up`` to the hub announced on a new home (topics created).
        start_seconds: ``kawal up`` to the hub announced again on the same home.
        cpu_percent: Percent of one core at rest, per process name.
        rss_mib: Resident memory per process name, in MiB.
    """

    first_start_seconds: float
    start_seconds: float
    cpu_percent: dict[str, float]
    rss_mib: dict[str, float]

    def lines(self, prefix: str) -> list[str]:
        """``name: value`` lines of the figures."""
        total = sum(self.cpu_percent.values())
        lines = [
            f"{prefix}startup_seconds_first: {self.first_start_seconds:.1f}",
            f"{prefix}startup_seconds: {self.start_seconds:.1f}",
            f"{prefix}idle_cpu_percent_of_core: {total:.1f}",
        ]
        lines += [
            f"{prefix}idle_cpu_percent_of_core[{name}]: {value:.1f}"
            for name, value in sorted(self.cpu_percent.items())
        ]
        lines += [
            f"{prefix}rss_mib[{name}]: {value:.0f}" for name, value in sorted(self.rss_mib.items())
        ]
        return lines


def measure(
    institutions_file: Path | None, *, ephemeral: bool = False, after_demo: bool = False
) -> AtRest:
    """Start ``kawal up`` twice on one home with ``institutions_file`` and measure it at rest.

    Args:
        institutions_file: The registry; ``None`` is the shipped one.
        ephemeral: Run the broker on memory storage.
        after_demo: Publish the demo cases (``kawal demo``, shipped registry) after the second
            start and measure at rest after them: a hub that has handled events, as every hub
            in use has.
    """
    with tempfile.TemporaryDirectory(prefix="kawal-at-rest-") as tmp:
        env = _env(Path(tmp) / "home", institutions_file)
        args = ["--ephemeral"] if ephemeral else []
        first, up = _start(env, args)
        _stop(up)
        again, up = _start(env, args)
        try:
            if after_demo:
                _demo(env)
            time.sleep(SETTLE_SECONDS)
            cpu, rss = _sample(up)
        finally:
            _stop(up)
    return AtRest(first, again, cpu, rss)


def _env(home: Path, institutions_file: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KAWAL_BROKER_URL", None)
    env.update(
        KAWAL_HOME=str(home),
        KAWAL_WEB_PORT=str(free_port()),
        KAWAL_SINK_PORT=str(free_port()),
        KAWAL_EMBEDDED_BROKER_PORT=str(free_port()),
        KAWAL_EMBEDDED_STORAGE_PORT=str(free_storage_base_port()),
    )
    if institutions_file is not None:
        env["KAWAL_INSTITUTIONS_FILE"] = str(institutions_file)
    return env


def _start(env: dict[str, str], args: list[str]) -> tuple[float, subprocess.Popen[bytes]]:
    """Start ``kawal up``; the seconds until it announced the hub, every topic made.

    The worker and the sink answer ``/health`` a few seconds earlier on a first start with a
    national registry, while the feeds are still being created (:mod:`streams.local.startup`):
    the hub is up when ``kawal up`` says so.
    """
    started = time.monotonic()
    announced = Path(env["KAWAL_HOME"]).with_name(f"up-{time.monotonic_ns()}.out")
    with announced.open("wb") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "up", *args],
            env=env,
            stdout=out,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
    urls = [f"http://127.0.0.1:{env[key]}/health" for key in ("KAWAL_WEB_PORT", "KAWAL_SINK_PORT")]
    while ANNOUNCED not in announced.read_bytes() or not all(healthy(url) for url in urls):
        if up.poll() is not None or time.monotonic() - started > START_LIMIT_SECONDS:
            _stop(up)
            raise RuntimeError(f"kawal up was not up within {START_LIMIT_SECONDS:.0f} s")
        time.sleep(0.1)
    return time.monotonic() - started, up


def _demo(env: dict[str, str]) -> None:
    broker = f"tansu://127.0.0.1:{env['KAWAL_EMBEDDED_BROKER_PORT']}"
    subprocess.run(
        [sys.executable, "-m", "streams.cli", "demo"],
        env=env | {"KAWAL_BROKER_URL": broker},
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=START_LIMIT_SECONDS,
    )


def healthy(url: str) -> bool:
    """Whether ``url`` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _sample(up: subprocess.Popen[bytes]) -> tuple[dict[str, float], dict[str, float]]:
    root = psutil.Process(up.pid)
    processes = [root, *root.children(recursive=True)]
    _, _, used = cpu_while(processes, lambda: time.sleep(SAMPLE_SECONDS))
    cpu = {name: 100 * seconds / SAMPLE_SECONDS for name, seconds in used.items()}
    rss: dict[str, float] = {}
    for process in processes:
        name = role_of(process)
        rss[name] = rss.get(name, 0.0) + process.memory_info().rss / 2**20
    return cpu, rss


def _stop(up: subprocess.Popen[bytes]) -> None:
    if up.poll() is None:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()


if __name__ == "__main__":
    registry = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    print("\n".join(measure(registry).lines("")))
