"""``PrometheusRule`` manifests (``monitoring.coreos.com/v1``, the Prometheus Operator)
holding the same rule groups as ``alerts/rules/<service>.yaml``.

``perfdash build --format prometheus-rule`` adds them as
``alerts/kubernetes/<service>.yaml``, one manifest per service, for clusters where the
operator loads rules. Pure, like every generator.
"""

from __future__ import annotations

from collections.abc import Mapping

import yaml

from perfdash import conventions
from perfdash.yamlout import dump

API_VERSION = "monitoring.coreos.com/v1"


def prometheus_rule_manifests(artifacts: Mapping[str, str]) -> dict[str, str]:
    """``{alerts/kubernetes/<service>.yaml: manifest}`` for each generated rule file."""
    manifests = {}
    prefix = conventions.RULES_DIR + "/"
    for path, text in sorted(artifacts.items()):
        if not (path.startswith(prefix) and path.endswith(".yaml")):
            continue
        service = path.removeprefix(prefix).removesuffix(".yaml")
        groups = (yaml.safe_load(text) or {}).get("groups") or []
        manifest = {
            "apiVersion": API_VERSION,
            "kind": "PrometheusRule",
            "metadata": {
                "name": f"perfdash-{service}",
                "labels": {
                    "app.kubernetes.io/managed-by": "perfdash",
                    "app.kubernetes.io/part-of": "perfdash",
                    "perfdash/service": service,
                },
            },
            "spec": {"groups": groups},
        }
        header = (
            f"{conventions.GENERATED_MARK} from {path}: the same rule groups as a PrometheusRule for the\n"
            "Prometheus Operator. Do not edit: change the declaration and run `perfdash build "
            "--format prometheus-rule`."
        )
        manifests[f"{conventions.KUBERNETES_DIR}/{service}.yaml"] = dump(manifest, header=header)
    return manifests
