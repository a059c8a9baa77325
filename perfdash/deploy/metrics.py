"""Metrics of an apply run, pushed to a Prometheus Pushgateway (``--pushgateway URL``).

So CI runs of apply can be graphed and alerted on (job ``perfdash_apply``; the push
replaces the job's previous metrics):

    perfdash_apply_duration_seconds                 wall time of the run
    perfdash_apply_changes{kind, action}            changes applied
    perfdash_apply_failures{kind}                   objects that failed
    perfdash_apply_conflicts                        changed by someone else / not perfdash's
    perfdash_apply_drift_refused                    edited in Grafana, kept (no --force)
    perfdash_apply_success                          1 when nothing failed
    perfdash_apply_last_run_timestamp_seconds       when the run ended

A run that failed before applying anything (bad credentials, Grafana down) pushes
``success`` 0 and its duration, with no change counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.error import URLError

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
from prometheus_client.exposition import basic_auth_handler, default_handler

from perfdash.deploy.outcome import ApplyReport
from perfdash.deploy.settings import Endpoint
from perfdash.errors import PushError, redact

JOB = "perfdash_apply"
KINDS = ("folder", "dashboard", "rule_file", "rule_group", "prometheus")
ACTIONS = ("create", "update", "move", "delete")


def apply_registry(
    report: ApplyReport | None, *, duration: float, finished: float | None = None
) -> CollectorRegistry:
    registry = CollectorRegistry()

    def gauge(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, documentation, labels, registry=registry)

    gauge("perfdash_apply_duration_seconds", "Wall time of perfdash apply.").set(duration)
    success = report is not None and not report.failed
    gauge("perfdash_apply_success", "1 when every change applied, else 0.").set(int(success))
    gauge(
        "perfdash_apply_last_run_timestamp_seconds", "When perfdash apply finished (Unix time)."
    ).set(finished if finished is not None else time.time())
    changes = gauge(
        "perfdash_apply_changes", "Changes applied, by object kind and action.", ("kind", "action")
    )
    failures = gauge("perfdash_apply_failures", "Objects that failed to apply.", ("kind",))
    conflicts = gauge(
        "perfdash_apply_conflicts", "Objects changed by someone else or not owned by perfdash."
    )
    drift = gauge("perfdash_apply_drift_refused", "Dashboards edited in Grafana and kept.")
    if report is None:
        return registry
    counted = report.counts()
    for kind in KINDS:
        for action in ACTIONS:
            if kind != "prometheus":
                changes.labels(kind, action).set(counted.get((kind, action), 0))
        failures.labels(kind).set(sum(1 for o in report.failed if o.kind == kind))
    conflicts.set(sum(1 for o in report.failed if o.conflict))
    drift.set(sum(1 for o in report.failed if o.drift))
    return registry


def push_apply_metrics(
    pushgateway: Endpoint,
    report: ApplyReport | None,
    *,
    duration: float,
    grouping: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> None:
    """Push (replace) the ``perfdash_apply`` job's metrics; PushError when refused. The
    credentials of the Pushgateway's URL, if any, go as basic auth."""
    registry = apply_registry(report, duration=duration)
    try:
        push_to_gateway(
            pushgateway.url,
            job=JOB,
            registry=registry,
            grouping_key=dict(grouping or {}),
            timeout=timeout,
            handler=pushgateway_handler(pushgateway),
        )
    except (URLError, OSError, ValueError) as exc:
        raise PushError(redact(f"cannot push apply metrics to {pushgateway.url}: {exc}")) from exc


def pushgateway_handler(pushgateway: Endpoint) -> Callable[..., Any]:
    """prometheus_client's push handler, with the URL's credentials as basic auth."""
    if pushgateway.user is None or pushgateway.password is None:
        return default_handler
    user, password = pushgateway.user, pushgateway.password.reveal()

    def with_credentials(
        url: str, method: str, timeout: float | None, headers: Any, data: bytes
    ) -> Callable[[], None]:
        handle: Callable[[], None] = basic_auth_handler(
            url, method, timeout, headers, data, username=user, password=password
        )
        return handle

    return with_credentials
