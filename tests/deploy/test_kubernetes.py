"""deploy/kubernetes/ is what the registries generate, and every resource in it validates offline.

Core resources against Kubernetes 1.37's schemas that kubernetes-validate ships (strict: an
unknown field fails); Strimzi's and Prometheus Operator's resources against the documented
fields of :mod:`tests.deploy.custom_resources`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from streams.broker.acls import AclError
from streams.contract.kubernetes import DIRECTORY, connector_names, main, manifests
from streams.domain.institutions import HUB_INSTITUTION, Institution, load_institutions
from streams.topics import DLQ, all_topics
from tests.deploy.custom_resources import SCHEMAS
from tests.deploy.manifests import (
    ROOT,
    containers,
    documents,
    kawal_workloads,
    of_kind,
    pod_spec,
    settings_of,
)

KUBERNETES_VERSION = "1.37.0"


def check(document: dict[str, Any]) -> None:
    """Validate one resource: a custom one against its documented fields, else Kubernetes'."""
    schema = SCHEMAS.get(document["kind"])
    if schema is None:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    else:
        jsonschema.validate(document, schema)


def test_committed_manifests_are_what_the_registries_generate() -> None:
    fresh = manifests(load_institutions(), connector_names())
    committed = {path.relative_to(ROOT) for path in (ROOT / DIRECTORY).glob("*.yaml")}
    assert committed == set(fresh)
    for path, text in fresh.items():
        assert (ROOT / path).read_text(encoding="utf-8") == text, f"{path} is stale"


def test_check_mode_refuses_a_stale_manifest_and_accepts_a_fresh_one(tmp_path: Path) -> None:
    assert main(["--root", str(tmp_path)]) == 0
    assert main(["--root", str(tmp_path), "--check"]) == 0
    topics = tmp_path / DIRECTORY / "20-topics.yaml"
    topics.write_text(topics.read_text().replace("partitions: 12", "partitions: 6", 1))
    assert main(["--root", str(tmp_path), "--check"]) == 1


@pytest.mark.parametrize(
    "document", documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}"
)
def test_every_resource_validates_offline(document: dict[str, Any]) -> None:
    check(document)


def test_a_broken_custom_resource_is_refused() -> None:
    topic = of_kind("KafkaTopic")[0]
    misspelt = {**topic, "spec": {**topic["spec"], "partition": 3}}
    with pytest.raises(jsonschema.ValidationError, match="partition"):
        check(misspelt)
    user = of_kind("KafkaUser")[0]
    acl = {**user["spec"]["authorization"]["acls"][0], "operations": ["Publish"]}
    bad_user = {
        **user,
        "spec": {**user["spec"], "authorization": {"type": "simple", "acls": [acl]}},
    }
    with pytest.raises(jsonschema.ValidationError, match="Publish"):
        check(bad_user)


def test_a_broken_core_resource_is_refused() -> None:
    deployment = of_kind("Deployment")[0]
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        check(broken)
    unknown = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        check(unknown)


def test_topics_and_users_match_the_registries() -> None:
    institutions = load_institutions()
    wanted = {spec.name: spec for spec in all_topics(institutions, 12, 3)}
    topics = {doc["spec"]["topicName"]: doc["spec"] for doc in of_kind("KafkaTopic")}
    assert set(topics) == set(wanted)
    for name, spec in topics.items():
        assert spec["partitions"] == wanted[name].partitions
        assert spec["config"] == wanted[name].configs
        assert spec["config"]["min.insync.replicas"] == "2"
    users = {doc["metadata"]["name"] for doc in of_kind("KafkaUser")}
    assert users == {institution.id for institution in institutions}


def test_a_new_institution_gets_its_topics_and_its_user() -> None:
    institutions = (*load_institutions(), Institution("ppk.3301", "ppk", "PPK Cilacap"))
    files = manifests(institutions, [])
    users = yaml.safe_load_all(files[DIRECTORY / "30-users.yaml"])
    user = next(doc for doc in users if doc["metadata"]["name"] == "ppk.3301")
    granted = {
        (acl["resource"]["name"], op)
        for acl in user["spec"]["authorization"]["acls"]
        for op in acl["operations"]
    }
    assert ("kawal.inbound.ppk.3301", "Write") in granted
    assert ("kawal.outbound.ppk.3301", "Read") in granted
    assert ("kawal.case.events", "Read") not in granted
    assert "topicName: kawal.outbound.ppk.3301" in files[DIRECTORY / "20-topics.yaml"]


def test_every_institution_user_writes_dead_letters_and_only_the_hub_reads_them() -> None:
    users = of_kind("KafkaUser")
    writers, readers = set(), set()
    for user in users:
        for acl in user["spec"]["authorization"]["acls"]:
            if acl["resource"] == {"type": "topic", "name": DLQ, "patternType": "literal"}:
                writers |= {user["metadata"]["name"]} if "Write" in acl["operations"] else set()
                readers |= {user["metadata"]["name"]} if "Read" in acl["operations"] else set()
    assert writers == {user["metadata"]["name"] for user in users}
    assert readers == {HUB_INSTITUTION}


def test_an_institution_id_no_acl_can_name_is_refused() -> None:
    institutions = (*load_institutions(), Institution("ppk/3301", "ppk", "Bad"))
    with pytest.raises(AclError, match="ppk/3301"):
        manifests(institutions, [])


def test_the_cluster_is_kraft_with_three_replicated_brokers() -> None:
    (kafka,) = of_kind("Kafka")
    (pool,) = of_kind("KafkaNodePool")
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert pool["spec"]["replicas"] == 3
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    config = kafka["spec"]["kafka"]["config"]
    assert (config["default.replication.factor"], config["min.insync.replicas"]) == (3, 2)


def test_every_container_has_probes_and_no_inlined_secret() -> None:
    assert not of_kind("Secret")
    for container in containers():
        assert {"readinessProbe", "livenessProbe"} <= set(container)
        for variable in container.get("env", []):
            if "PASSWORD" in variable["name"] or variable["name"] == "KAWAL_AUDIT_DB_URL":
                assert "secretKeyRef" in variable["valueFrom"], variable["name"]


def test_worker_sink_and_every_connector_run_and_are_scraped() -> None:
    assert {doc["metadata"]["name"] for doc in of_kind("Deployment")} == {
        "kawal-worker",
        "kawal-sink",
    }
    stateful = {doc["metadata"]["name"] for doc in of_kind("StatefulSet")}
    assert stateful == {
        "kawal-audit-db",
        "kawal-alertmanager",
        *(f"kawal-connector-{c}" for c in connector_names()),
    }
    monitors = of_kind("ServiceMonitor")
    for service in of_kind("Service"):
        if service["metadata"]["name"] != "kawal-audit-db":
            labels = service["metadata"]["labels"].items()
            (monitor,) = [
                m for m in monitors if m["spec"]["selector"]["matchLabels"].items() <= labels
            ]
            assert service["spec"]["ports"][0]["name"] == monitor["spec"]["endpoints"][0]["port"]
    assert of_kind("PodDisruptionBudget")


def test_the_prometheus_rule_carries_the_hubs_rules_unchanged() -> None:
    (rule,) = of_kind("PrometheusRule")
    rules = yaml.safe_load((ROOT / "monitoring" / "prometheus" / "rules.yml").read_text())

    assert rule["spec"]["groups"] == rules["groups"]
    alerts = [
        r["alert"] for group in rule["spec"]["groups"] for r in group["rules"] if "alert" in r
    ]
    assert "KawalFollowUpBreachedWithoutBlock" in alerts
    for monitor in of_kind("ServiceMonitor"):
        assert rule["metadata"]["labels"] == monitor["metadata"]["labels"]
    group = rule["spec"]["groups"][0]
    no_expr = {**group, "rules": [{"alert": "KawalSomething"}]}
    with pytest.raises(jsonschema.ValidationError, match="expr"):
        check({**rule, "spec": {"groups": [no_expr]}})


NATIONAL = ROOT / "tests" / "data" / "national" / "institutions.toml"
#: Kubernetes refuses a ConfigMap whose data exceeds 1 MiB, and annotations above 256 KiB.
CONFIG_MAP_LIMIT = 1024 * 1024
ANNOTATIONS_LIMIT = 256 * 1024
OPERATIONS = ROOT / "docs" / "operations.md"


def _read_registry_of(container: dict[str, Any], workload: dict[str, Any], tmp: Path) -> Path:
    """The registry file ``container`` reads, as its ConfigMap holds it, copied under ``tmp``."""
    path = settings_of(container).institutions_file
    assert path is not None, "KAWAL_INSTITUTIONS_FILE unset: the process reads the bundled one"
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == str(path.parent)]
    (volume,) = [v for v in pod_spec(workload)["volumes"] if v["name"] == mount["name"]]
    (config_map,) = [
        c for c in of_kind("ConfigMap") if c["metadata"]["name"] == volume["configMap"]["name"]
    ]
    copy = tmp / f"{workload['metadata']['name']}.toml"
    copy.write_text(config_map["data"][path.name], encoding="utf-8")
    return copy


def test_every_process_reads_the_registry_its_topics_and_users_were_made_from(
    tmp_path: Path,
) -> None:
    users = {doc["metadata"]["name"] for doc in of_kind("KafkaUser")}
    for workload in kawal_workloads():
        container = pod_spec(workload)["containers"][0]
        registry = _read_registry_of(container, workload, tmp_path)
        assert {i.id for i in load_institutions(registry)} == users, workload["metadata"]["name"]


def test_a_national_registry_gets_its_topics_users_and_registry(tmp_path: Path) -> None:
    assert main(["--root", str(tmp_path), "--institutions", str(NATIONAL)]) == 0
    national = load_institutions(NATIONAL)
    assert len(national) > 1_700
    written = tmp_path / DIRECTORY

    def names(file: str, kind: str) -> set[str]:
        # libyaml's safe loader: the national files hold thousands of resources.
        docs = yaml.load_all((written / file).read_text(), Loader=yaml.CSafeLoader)
        return {doc["metadata"]["name"] for doc in docs if doc["kind"] == kind}

    assert names("30-users.yaml", "KafkaUser") == {i.id for i in national}
    assert len(names("20-topics.yaml", "KafkaTopic")) == len(all_topics(national, 12, 3))
    (config_map,) = yaml.safe_load_all((written / "45-institutions.yaml").read_text())
    assert config_map["data"]["institutions.toml"] == NATIONAL.read_text(encoding="utf-8")
    assert len(NATIONAL.read_bytes()) < CONFIG_MAP_LIMIT
    # A client-side `kubectl apply` keeps the whole resource in an annotation, and Kubernetes
    # refuses a resource whose annotations exceed 256 KiB: the docs apply server-side.
    if len(json.dumps(config_map)) > ANNOTATIONS_LIMIT * 0.9:
        assert "kubectl apply --server-side" in OPERATIONS.read_text().replace("\n", " ")
    assert main(["--root", str(tmp_path), "--institutions", str(NATIONAL), "--check"]) == 0
    assert main(["--root", str(tmp_path), "--check"]) == 1


def test_an_unreadable_registry_stops_the_generator(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    assert main(["--root", str(tmp_path), "--institutions", str(missing)]) == 2
    assert not (tmp_path / DIRECTORY).exists()


@pytest.mark.parametrize("bad", ["PPK_3301", "Ppk.3301", "ppk.3301-", "-ppk"])
def test_an_institution_id_no_kafka_user_can_be_named_is_refused(bad: str) -> None:
    institutions = (*load_institutions(), Institution(bad, "ppk", "Bad"))
    with pytest.raises(AclError, match=re.escape(bad)):
        manifests(institutions, [])
