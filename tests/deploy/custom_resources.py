"""Every field the manifests use of Strimzi's and Prometheus Operator's APIs, as JSON Schema.

No registry package ships these CRDs' schemas (kubernetes-validate has core resources only), so
each field below is copied from the documented API and nothing else is allowed
(``additionalProperties: false`` everywhere): a misspelt or unknown field, a wrong type or an
enum value the API does not have is refused.

Sources:
    Strimzi 0.45 "Custom resource API reference" (strimzi.io/docs/operators/latest/configuring):
    ``KafkaSpec``, ``KafkaClusterSpec``, ``GenericKafkaListener``,
    ``KafkaListenerAuthenticationScramSha512``, ``KafkaAuthorizationSimple``,
    ``EntityOperatorSpec``, ``KafkaNodePoolSpec``, ``PersistentClaimStorage``,
    ``KafkaTopicSpec``, ``KafkaUserSpec``, ``KafkaUserScramSha512ClientAuthentication``,
    ``KafkaUserAuthorizationSimple``, ``AclRule``, ``AclRuleTopicResource``,
    ``AclRuleGroupResource``; Prometheus Operator API reference, ``monitoring.coreos.com/v1``
    ``ServiceMonitorSpec``, ``Endpoint``, ``SafeTLSConfig``, ``PrometheusRuleSpec``,
    ``RuleGroup`` and ``Rule``; cert-manager ``cert-manager.io/v1`` ``CertificateSpec`` and
    ``IssuerRef`` (the Certificate of docs/operations.md).
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


def _object(required: list[str], **properties: Json) -> Json:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


_STRING: Json = {"type": "string"}
_MAP: Json = {"type": "object", "additionalProperties": {"type": "string"}}
#: Prometheus Operator's ``SafeTLSConfig``: ``ca`` a ``SecretOrConfigMap`` (here a Secret's
#: key, ``SecretKeySelector``), ``serverName`` the name the certificate must hold.
_TLS_CONFIG: Json = _object(
    [],
    ca=_object([], secret=_object(["key"], name=_STRING, key=_STRING)),
    serverName=_STRING,
)
_CONFIG: Json = {
    "type": "object",
    "additionalProperties": {"type": ["string", "integer", "boolean", "number"]},
}


def _metadata(*, annotations: bool = True) -> Json:
    fields: Json = {"name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"}}
    fields["labels"] = _MAP
    if annotations:
        fields["annotations"] = _MAP
    return _object(["name"], **fields)


def _resource(api: str, kind: str, spec: Json, *, cluster_label: bool = True) -> Json:
    metadata = _metadata()
    if cluster_label:
        metadata["required"] = ["name", "labels"]
        metadata["properties"]["labels"] = {
            **_MAP,
            "required": ["strimzi.io/cluster"],
        }
    return _object(
        ["apiVersion", "kind", "metadata", "spec"],
        apiVersion={"const": api},
        kind={"const": kind},
        metadata=metadata,
        spec=spec,
    )


_STRIMZI = "kafka.strimzi.io/v1beta2"

_LISTENER = _object(
    ["name", "port", "type", "tls"],
    name={"type": "string", "pattern": "^[a-z0-9]{1,11}$"},
    port={"type": "integer", "minimum": 9092},
    type={"enum": ["internal", "route", "loadbalancer", "nodeport", "ingress", "cluster-ip"]},
    tls={"type": "boolean"},
    authentication=_object(["type"], type={"enum": ["tls", "scram-sha-512", "oauth", "custom"]}),
)

KAFKA = _resource(
    _STRIMZI,
    "Kafka",
    _object(
        ["kafka"],
        kafka=_object(
            ["listeners"],
            listeners={"type": "array", "minItems": 1, "items": _LISTENER},
            authorization=_object(
                ["type"],
                type={"enum": ["simple", "opa", "keycloak", "custom"]},
                superUsers={"type": "array", "items": _STRING},
            ),
            config=_CONFIG,
        ),
        entityOperator=_object(
            [], topicOperator={"type": "object"}, userOperator={"type": "object"}
        ),
    ),
    cluster_label=False,
)

KAFKA_NODE_POOL = _resource(
    _STRIMZI,
    "KafkaNodePool",
    _object(
        ["replicas", "roles", "storage"],
        replicas={"type": "integer", "minimum": 0},
        roles={"type": "array", "minItems": 1, "items": {"enum": ["controller", "broker"]}},
        storage=_object(
            ["type", "size"],
            type={"const": "persistent-claim"},
            size={"type": "string", "pattern": "^[0-9]+(Ki|Mi|Gi|Ti)$"},
            deleteClaim={"type": "boolean"},
        ),
    ),
)

KAFKA_TOPIC = _resource(
    _STRIMZI,
    "KafkaTopic",
    _object(
        ["partitions", "replicas"],
        topicName=_STRING,
        partitions={"type": "integer", "minimum": 1},
        replicas={"type": "integer", "minimum": 1, "maximum": 32767},
        config=_CONFIG,
    ),
)

_ACL_RULE = _object(
    ["resource", "operations"],
    resource=_object(
        ["type", "name"],
        type={"enum": ["topic", "group", "cluster", "transactionalId"]},
        name=_STRING,
        patternType={"enum": ["literal", "prefix"]},
    ),
    operations={
        "type": "array",
        "minItems": 1,
        "uniqueItems": True,
        "items": {
            "enum": [
                "Read",
                "Write",
                "Create",
                "Delete",
                "Alter",
                "Describe",
                "ClusterAction",
                "AlterConfigs",
                "DescribeConfigs",
                "IdempotentWrite",
                "All",
            ]
        },
    },
    host=_STRING,
    type={"enum": ["allow", "deny"]},
)

KAFKA_USER = _resource(
    _STRIMZI,
    "KafkaUser",
    _object(
        ["authentication", "authorization"],
        authentication=_object(["type"], type={"enum": ["tls", "tls-external", "scram-sha-512"]}),
        authorization=_object(
            ["type", "acls"],
            type={"const": "simple"},
            acls={"type": "array", "items": _ACL_RULE},
        ),
    ),
)

SERVICE_MONITOR = _resource(
    "monitoring.coreos.com/v1",
    "ServiceMonitor",
    _object(
        ["selector", "endpoints"],
        selector=_object([], matchLabels=_MAP),
        endpoints={
            "type": "array",
            "minItems": 1,
            "items": _object(
                ["port"],
                port=_STRING,
                path={"type": "string", "pattern": "^/"},
                interval={"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                scheme={"enum": ["http", "https"]},
                tlsConfig=_TLS_CONFIG,
            ),
        },
    ),
    cluster_label=False,
)

_RULE = _object(
    ["expr"],
    record=_STRING,
    alert=_STRING,
    expr={"type": ["string", "integer"]},
    labels=_MAP,
    annotations=_MAP,
    **{"for": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"}},
)
_RULE["oneOf"] = [{"required": ["record"]}, {"required": ["alert"]}]

PROMETHEUS_RULE = _resource(
    "monitoring.coreos.com/v1",
    "PrometheusRule",
    _object(
        ["groups"],
        groups={
            "type": "array",
            "minItems": 1,
            "items": _object(
                ["name", "rules"],
                name=_STRING,
                interval={"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                rules={"type": "array", "items": _RULE},
            ),
        },
    ),
    cluster_label=False,
)

_DURATION: Json = {"type": "string", "pattern": "^([0-9]+(h|m|s))+$"}

#: cert-manager's ``cert-manager.io/v1`` ``CertificateSpec`` (cert-manager.io/docs/reference/
#: api-docs): the ``Certificate`` docs/operations.md shows for the Secret ``kawal-web-tls``.
CERTIFICATE = _resource(
    "cert-manager.io/v1",
    "Certificate",
    _object(
        ["secretName", "issuerRef"],
        secretName=_STRING,
        issuerRef=_object(
            ["name"], name=_STRING, kind={"enum": ["Issuer", "ClusterIssuer"]}, group=_STRING
        ),
        duration=_DURATION,
        renewBefore=_DURATION,
        privateKey=_object(
            [], algorithm={"enum": ["RSA", "ECDSA", "Ed25519"]}, size={"type": "integer"}
        ),
        dnsNames={"type": "array", "minItems": 1, "items": _STRING},
    ),
    cluster_label=False,
)

#: The schema of each custom resource kind the manifests hold.
SCHEMAS: dict[str, Json] = {
    "Kafka": KAFKA,
    "KafkaNodePool": KAFKA_NODE_POOL,
    "KafkaTopic": KAFKA_TOPIC,
    "KafkaUser": KAFKA_USER,
    "ServiceMonitor": SERVICE_MONITOR,
    "PrometheusRule": PROMETHEUS_RULE,
    "Certificate": CERTIFICATE,
}
