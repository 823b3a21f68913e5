"""The embedded broker and storage as real child processes (no mocks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from schemas.errors import KawalError
from streams.local.children import PortInUseError
from streams.local.embedded import EmbeddedBroker, EmbeddedCluster
from streams.local.processes import (
    PICKED_PORTS,
    SERVICE_PORTS,
    TEST_PORTS_VARIABLE,
    ChildFailedError,
    ChildProcess,
    free_port,
    ports_for_tests,
)
from streams.local.storage import EmbeddedStorage, free_storage_base_port
from streams.setting_types import BROWSER_REFUSED_PORTS

RECORDS = 200
GROUP = "kawal-test"


def _running(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie (read from /proc; psutil is not installed)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _our_children() -> set[int]:
    children: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        children.update(int(pid) for pid in (task / "children").read_text().split())
    return children


def _wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while _running(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _wait_dead(*components: EmbeddedBroker | EmbeddedStorage) -> None:
    # Polling .alive reaps the killed children, which releases their ports.
    deadline = time.monotonic() + 5
    while any(component.alive for component in components):
        assert time.monotonic() < deadline, "a killed child is still alive"
        time.sleep(0.02)


def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        futures = [producer.send(topic, value) for value in values]
        producer.flush(timeout=15)
        for future in futures:
            future.get(timeout=15)
    finally:
        producer.close(timeout=5)


def _consume(consumer: KafkaConsumer, wanted: int, timeout: float) -> list[bytes]:
    # tansu's end offsets are wrong, so count records until enough arrived or time ran out.
    values: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(values) < wanted and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=200).values():
            values.extend(record.value for record in records)
    return values


def _consumer(bootstrap: str, topic: str, **config: object) -> KafkaConsumer:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", **config)
    partitions = None
    deadline = time.monotonic() + 10
    while not partitions and time.monotonic() < deadline:
        partitions = consumer.partitions_for_topic(topic)
        time.sleep(0 if partitions else 0.05)
    assert partitions, f"topic {topic} has no partitions"
    consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
    return consumer


@pytest.fixture
def ephemeral_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker.ephemeral(tmp_path / "logs", port=free_port())
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def test_ephemeral_broker_round_trips_a_record(ephemeral_broker: EmbeddedBroker) -> None:
    assert ephemeral_broker.url == f"tansu://127.0.0.1:{ephemeral_broker.port}"
    _produce(ephemeral_broker.bootstrap_servers, "round-trip", [b"hello"])

    consumer = _consumer(ephemeral_broker.bootstrap_servers, "round-trip")
    try:
        assert _consume(consumer, 1, timeout=10) == [b"hello"]
    finally:
        consumer.close()


def test_stop_leaves_no_child_process(ephemeral_broker: EmbeddedBroker) -> None:
    pid = ephemeral_broker.pid
    assert pid is not None
    assert ephemeral_broker.alive
    assert pid in _our_children()

    ephemeral_broker.stop()

    assert not ephemeral_broker.alive
    assert not _running(pid)
    assert pid not in _our_children()


@pytest.mark.slow
def test_durable_broker_keeps_records_and_offsets_across_kill_9(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(
        tmp_path / "logs",
        data_dir=tmp_path / "data",
        broker_port=free_port(),
        storage_port=free_storage_base_port(),
    )
    storage, broker = cluster.storage, cluster.broker
    assert storage is not None
    values = [f"record-{i}".encode() for i in range(RECORDS)]
    cluster.start()
    try:
        _produce(cluster.bootstrap_servers, "durable", values)
        _commit_first_offsets(cluster.bootstrap_servers, "durable")
        for component in (broker, storage):
            assert component.pid is not None
            os.kill(component.pid, signal.SIGKILL)
        _wait_dead(broker, storage)

        cluster.start()

        consumer = _consumer(cluster.bootstrap_servers, "durable", group_id=GROUP)
        try:
            partitions = sorted(consumer.assignment())
            assert [consumer.committed(tp) for tp in partitions] == [1] * len(partitions)
            consumer.seek_to_beginning()
            assert sorted(_consume(consumer, RECORDS, timeout=20)) == sorted(values)
        finally:
            consumer.close(autocommit=False)
    finally:
        cluster.stop()
    assert not any(_running(pid) for pid in (broker.pid, storage.pid) if pid is not None)


def _commit_first_offsets(bootstrap: str, topic: str) -> None:
    consumer = _consumer(bootstrap, topic, group_id=GROUP, enable_auto_commit=False)
    try:
        consumer.commit({tp: OffsetAndMetadata(1, "", -1) for tp in consumer.assignment()})
    finally:
        consumer.close(autocommit=False)


def test_broker_port_in_use_names_the_port_and_setting(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        broker = EmbeddedBroker.ephemeral(tmp_path / "logs", port=port)

        with pytest.raises(PortInUseError, match=f"port {port} .*KAWAL_EMBEDDED_BROKER_PORT"):
            broker.start()
    assert broker.pid is None


def test_storage_grpc_port_in_use_names_the_port_and_setting(tmp_path: Path) -> None:
    base = free_storage_base_port()
    grpc_port = base + 10_001
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", grpc_port))
        holder.listen()
        storage = EmbeddedStorage(tmp_path / "data", tmp_path / "logs", base_port=base)

        with pytest.raises(
            PortInUseError, match=f"SeaweedFS master gRPC: port {grpc_port} .*STORAGE_PORT"
        ):
            storage.start()
    assert storage.pid is None


#: Wake-ups a second of a storage at rest, above which it is busy doing nothing. Measured: about
#: 130 at rest, about 2,400 when its master resumed Raft state and ticked every millisecond.
QUIET_WAKE_UPS_PER_SECOND = 800.0


def _wake_ups_per_second(pid: int, seconds: float) -> float:
    """Context switches a second of every thread of ``pid``: how often it wakes, not CPU time."""

    def switches() -> int:
        total = 0
        for task in Path(f"/proc/{pid}/task").iterdir():
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
        return total

    before = switches()
    time.sleep(seconds)
    return (switches() - before) / seconds


@pytest.mark.slow
def test_restarted_storage_is_quiet_at_rest(tmp_path: Path) -> None:
    # Every start after the first finds the master's state: the case of every hub in use.
    storage = EmbeddedStorage(
        tmp_path / "data", tmp_path / "logs", base_port=free_storage_base_port()
    )
    storage.start()
    storage.stop()
    storage.start()
    try:
        assert storage.pid is not None
        wake_ups = _wake_ups_per_second(storage.pid, 3.0)
    finally:
        storage.stop()
    assert wake_ups < QUIET_WAKE_UPS_PER_SECOND


def test_free_ports_are_new_at_each_call_and_below_the_ephemeral_range() -> None:
    # An outgoing connection takes its local port from the ephemeral range: it could take a
    # port picked there before the server binds it.
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    ports = [free_port() for _ in range(50)]

    assert len(set(ports)) == len(ports)
    assert all(port < int(ephemeral[0]) for port in ports)


def test_free_port_passes_over_a_port_taken_since() -> None:
    last = free_port()
    ports = ports_for_tests() or PICKED_PORTS
    following = ports[(ports.index(last) + 1) % len(ports)]
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", following))
        holder.listen()

        picked = free_port()

    assert picked not in (last, following)


def test_kawal_test_ports_keeps_free_ports_and_storage_blocks_in_its_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two test runs on one machine, each given its own range, never pick each other's ports.
    monkeypatch.setenv(TEST_PORTS_VARIABLE, "30200-30239")
    before = [free_port() for _ in range(10)]
    base = free_storage_base_port()
    after = [free_port() for _ in range(10)]

    block = set(range(base, base + 5))
    assert all(30200 <= port <= 30239 for port in [*before, *after, *block])
    assert block.isdisjoint([*before, *after])
    assert len(set(before + after)) == 20


def test_free_ports_are_never_ports_browsers_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    # A hub's pages on a picked 5061 (SIP) could not be opened: Chromium says ERR_UNSAFE_PORT.
    monkeypatch.setenv(TEST_PORTS_VARIABLE, "5055-5066")

    ports = {free_port() for _ in range(30)}

    # Other tests may hold some of the others meanwhile; none may hold the refused two.
    assert ports <= set(range(5055, 5067)) - BROWSER_REFUSED_PORTS
    assert len(ports) > 1


def test_free_ports_pass_over_ports_common_servers_use(monkeypatch: pytest.MonkeyPatch) -> None:
    # A demo simulator on 5432 kept a PostgreSQL started later on the machine from binding it.
    monkeypatch.setenv(TEST_PORTS_VARIABLE, "5428-5444")

    ports = {free_port() for _ in range(30)}

    assert ports <= set(range(5428, 5445)) - SERVICE_PORTS
    assert 5432 not in ports
    assert len(ports) > 1


@pytest.mark.parametrize("value", ["30299-30200", "30200", "low-high", "80-90"])
def test_kawal_test_ports_that_is_no_range_says_what_it_takes(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(TEST_PORTS_VARIABLE, value)

    with pytest.raises(KawalError, match=f"{TEST_PORTS_VARIABLE} takes LOW-HIGH"):
        free_port()


def test_wait_for_port_reports_exit_code_and_log_tail(tmp_path: Path) -> None:
    script = "print('child says goodbye', flush=True); import time; time.sleep(30)"
    child = ChildProcess("sleeper", [sys.executable, "-c", script], tmp_path / "sleeper.log")
    child.start()
    try:
        deadline = time.monotonic() + 10
        while "goodbye" not in child.log_tail() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)

        with pytest.raises(ChildFailedError, match="exited with code -9") as failure:
            child.wait_for_port("127.0.0.1", free_port(), timeout=5)
    finally:
        child.stop()
    assert failure.value.returncode == -signal.SIGKILL
    assert "child says goodbye" in str(failure.value)


def test_a_port_another_process_holds_is_not_taken_for_the_childs(tmp_path: Path) -> None:
    # The child lost the race for the port: another process listens there and answers.
    with socket.create_server(("127.0.0.1", 0)) as other:
        port = other.getsockname()[1]
        script = "import time; time.sleep(30)"
        child = ChildProcess("loser", [sys.executable, "-c", script], tmp_path / "loser.log")
        child.start()
        try:
            with pytest.raises(ChildFailedError, match=f"did not listen on 127.0.0.1:{port}"):
                child.wait_for_port("127.0.0.1", port, timeout=1)
        finally:
            child.stop()


def test_a_port_the_child_listens_on_is_waited_for(tmp_path: Path) -> None:
    port = free_port()
    script = f"import socket, time; s = socket.create_server(('127.0.0.1', {port})); time.sleep(30)"
    child = ChildProcess("server", [sys.executable, "-c", script], tmp_path / "server.log")
    child.start()
    try:
        child.wait_for_port("127.0.0.1", port, timeout=10)
    finally:
        child.stop()


def test_child_dies_with_its_parent(tmp_path: Path) -> None:
    parent_code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from streams.local.processes import ChildProcess
        child = ChildProcess("sleeper", [sys.executable, "-c", "import time; time.sleep(30)"],
                             Path({str(tmp_path / "sleeper.log")!r}))
        child.start()
        print(child.pid, flush=True)
        time.sleep(30)
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE)
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        assert _running(child_pid)
    finally:
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
    assert _wait_gone(child_pid), "the child outlived its parent's kill -9"
