"""``PrometheusRule`` manifests (``monitoring.coreos.com/v1``, the Prometheus Operator)
holding the same rule groups as ``alerts/rules/<service>.yaml``.

``perfdash build --format prometheus-rule`` adds them as
``alerts/kubernetes/<service>.yaml``, one manifest per service, for clusters where the
operator loads rules. Made from the rule groups themselves, like the rule file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from perfdash import conventions
from perfdash.model.fleet import Service
from perfdash.yamlout import dump

API_VERSION = "monitoring.coreos.com/v1"


def prometheus_rule_manifest(service: Service, groups: Sequence[dict[str, Any]]) -> str:
    """The manifest of ``service``'s rule ``groups``."""
    manifest = {
        "apiVersion": API_VERSION,
        "kind": "PrometheusRule",
        "metadata": {
            "name": f"perfdash-{service.name}",
            "labels": {
                "app.kubernetes.io/managed-by": "perfdash",
                "app.kubernetes.io/part-of": "perfdash",
                "perfdash/service": service.name,
            },
        },
        "spec": {"groups": list(groups)},
    }
    rule_path = conventions.rule_file_path(service.name)
    header = (
        f"{conventions.GENERATED_MARK} from {rule_path}: the same rule groups as a "
        "PrometheusRule for the\nPrometheus Operator. Do not edit: change the declaration "
        "and run `perfdash build --format prometheus-rule`."
    )
    return dump(manifest, header=header)
