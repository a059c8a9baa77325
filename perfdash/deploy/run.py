"""One plan, one apply, over every configured target: Grafana, a rules folder (with
its Prometheus or vmalert), a Mimir/Cortex ruler.

``plan_deploy`` reads live state and compares; ``apply_deploy`` executes exactly that
plan. The CLI opens the targets once (``open_targets``) and runs both in turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from perfdash.deploy.fingerprint import ChangeContext
from perfdash.deploy.grafana_apply import apply_plan
from perfdash.deploy.grafana_client import GrafanaClient
from perfdash.deploy.grafana_live import read_live
from perfdash.deploy.grafana_plan import Plan, desired_state, plan
from perfdash.deploy.http import HttpClient, RetryPolicy
from perfdash.deploy.outcome import ApplyReport
from perfdash.deploy.ruler import RulerClient, RulerPlan, apply_ruler, desired_groups, plan_ruler
from perfdash.deploy.rules_dir import (
    RulesDirPlan,
    apply_rules_dir,
    desired_rule_files,
    plan_rules_dir,
    prometheus_client,
    read_rules_dir,
)
from perfdash.deploy.settings import DeploySettings
from perfdash.deploy.vmalert import reload_vmalert, vmalert_client
from perfdash.errors import ConfigError


@dataclass(frozen=True)
class DeployPlan:
    grafana: Plan | None = None
    grafana_url: str = ""
    rules_dir: RulesDirPlan | None = None
    ruler: RulerPlan | None = None

    @property
    def has_changes(self) -> bool:
        return any(
            p is not None and p.has_changes for p in (self.grafana, self.rules_dir, self.ruler)
        )


class Targets:
    """Open connections to every configured target; close them with ``close``."""

    def __init__(
        self,
        settings: DeploySettings,
        *,
        transports: Mapping[str, httpx.BaseTransport] | None = None,
        retry: RetryPolicy | None = None,
        vmalert_url: str | None = None,
    ) -> None:
        if settings.empty:
            raise ConfigError(
                "nothing to deploy to: set GRAFANA_URL (or --grafana-url, or grafana.url in "
                "perfdash.yaml), --rules-dir or --ruler-url"
            )
        if settings.prometheus is not None and settings.rules_dir is None:
            raise ConfigError("--prometheus-url reloads the rules of --rules-dir: give both")
        if vmalert_url and settings.rules_dir is None:
            raise ConfigError("--vmalert-url reloads the rules of --rules-dir: give both")
        routes = dict(transports or {})
        self.settings = settings
        self.grafana = (
            GrafanaClient.from_settings(
                settings.grafana, transport=routes.get("grafana"), retry=retry
            )
            if settings.grafana
            else None
        )
        self.rules_dir: Path | None = settings.rules_dir
        self.prometheus: HttpClient | None = (
            prometheus_client(
                settings.prometheus,
                transport=routes.get("prometheus"),
                retry=retry or RetryPolicy(attempts=settings.retries),
                limits=settings.limits,
            )
            if settings.prometheus is not None
            else None
        )
        self.ruler = (
            RulerClient(
                settings.ruler,
                transport=routes.get("ruler"),
                retry=retry or RetryPolicy(attempts=settings.retries),
                limits=settings.limits,
            )
            if settings.ruler
            else None
        )
        self.vmalert = (
            vmalert_client(vmalert_url, transport=routes.get("vmalert"), retry=retry)
            if vmalert_url
            else None
        )

    def close(self) -> None:
        for client in (self.grafana, self.prometheus, self.ruler, self.vmalert):
            if client is not None:
                client.close()

    def __enter__(self) -> Targets:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def plan_deploy(
    artifacts: Mapping[str, str],
    targets: Targets,
    *,
    prune: bool = False,
    groups: Mapping[str, Mapping[str, Any]] | None = None,
) -> DeployPlan:
    """What apply would do. ``groups``: the build's rule groups by name, for the ruler
    (without them they are read back from the rule files in ``artifacts``)."""
    grafana_plan = None
    if targets.grafana is not None:
        desired = desired_state(artifacts)
        grafana_plan = plan(desired, read_live(targets.grafana, desired), prune=prune)
    files_plan = None
    if targets.rules_dir is not None:
        files_plan = plan_rules_dir(
            desired_rule_files(artifacts),
            read_rules_dir(targets.rules_dir),
            directory=targets.rules_dir,
            prune=prune,
        )
    ruler_plan = None
    if targets.ruler is not None:
        assert targets.settings.ruler is not None
        namespace = targets.settings.ruler.namespace
        ruler_plan = plan_ruler(
            desired_groups(artifacts) if groups is None else groups,
            targets.ruler.groups(namespace),
            url=targets.settings.ruler.url,
            namespace=namespace,
            prune=prune,
        )
    return DeployPlan(
        grafana_plan,
        targets.grafana.url if targets.grafana is not None else "",
        files_plan,
        ruler_plan,
    )


def apply_deploy(
    deploy: DeployPlan, targets: Targets, *, force: bool = False, context: ChangeContext
) -> ApplyReport:
    parts = []
    if deploy.grafana is not None and targets.grafana is not None:
        parts.append(
            apply_plan(targets.grafana, deploy.grafana, force=force, context=context).outcomes
        )
    if deploy.rules_dir is not None:
        written = tuple(apply_rules_dir(deploy.rules_dir, prometheus=targets.prometheus))
        parts.append(written)
        if targets.vmalert is not None:
            parts.append(tuple(reload_vmalert(targets.vmalert, deploy.rules_dir, written)))
    if deploy.ruler is not None and targets.ruler is not None:
        parts.append(tuple(apply_ruler(deploy.ruler, targets.ruler)))
    return ApplyReport.of(*parts)
