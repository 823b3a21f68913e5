"""Every Kafka client the hub and the connectors build gets the broker credentials.

Read from the source, like ``tests/test_architecture.py``: a client built without them would
work against the plaintext test broker and fail only on a cluster that authenticates.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_architecture import ROOT, modules

#: Constructors of kafka-python and aiokafka clients.
CLIENTS = {
    "KafkaConsumer",
    "KafkaProducer",
    "KafkaAdminClient",
    "AIOKafkaConsumer",
    "AIOKafkaProducer",
    "AIOKafkaAdminClient",
}
#: The hub's one builder of kafka-python clients (streams.broker.endpoint).
HELPER = "kafka_client"
#: The connector contract suite runs against the plaintext broker its own tests start.
EXEMPT = {
    ROOT / "connectors" / name
    for name in ("contract.py", "contract_base.py", "contract_inbound.py", "contract_outbound.py")
}


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _without_credentials(call: ast.Call) -> bool:
    """A client constructor without ``**credentials``, or a helper call without ``security``."""
    if _name(call) == HELPER:  # kafka_client(kind, bootstrap, security, ...)
        return len(call.args) < 3 and "security" not in {kw.arg for kw in call.keywords}
    return _name(call) in CLIENTS and not any(kw.arg is None for kw in call.keywords)


def test_every_kafka_client_is_given_the_credentials() -> None:
    unauthenticated = [
        f"{path.relative_to(ROOT)}:{call.lineno} {_name(call)}(...) without credentials"
        for package in ("streams", "connectors")
        for path in modules(package)
        if path not in EXEMPT
        for call in _calls(path)
        if _without_credentials(call)
    ]

    assert unauthenticated == []


def test_the_faust_app_is_given_the_credentials() -> None:
    apps = [call for call in _calls(ROOT / "streams" / "app.py") if _name(call) == "App"]

    assert apps
    assert all("broker_credentials" in {kw.arg for kw in call.keywords} for call in apps)
