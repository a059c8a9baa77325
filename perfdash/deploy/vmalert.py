"""vmalert (VictoriaMetrics' rule evaluator) loading the rules folder: reload and verify.

``perfdash apply --rules-dir DIR --vmalert-url URL`` writes the rule files as for
Prometheus (``perfdash.deploy.rules_dir``), then asks vmalert, started with
``-rule=DIR/*.yaml``, to reload (``POST /-/reload``). vmalert answers 200 at once and
reloads in the background, so apply waits until ``vmalert_config_last_reload_total``
(``/metrics``) counts the reload, reads ``vmalert_config_last_reload_successful``, and
checks in ``/api/v1/rules`` that every generated group is loaded from DIR. A failed
reload keeps vmalert on its old rules; the error carries ``vmalert -dryRun`` output for
the folder when a vmalert binary is at hand.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from perfdash.deploy.http import HttpClient, Limits, RetryPolicy
from perfdash.deploy.outcome import Outcome
from perfdash.deploy.rules_dir import RulesDirPlan
from perfdash.deploy.settings import parse_url
from perfdash.errors import ConfigError, PerfdashError, PrometheusError

RELOAD_WAIT_SECONDS = 30.0
POLL_SECONDS = 0.2
DRY_RUN_TIMEOUT = 60
_RELOADS = "vmalert_config_last_reload_total"
_SUCCESSFUL = "vmalert_config_last_reload_successful"
_APPLIED = ("create", "update", "delete")


def vmalert_error(
    method: str, url: str, status: int | None, body: str, cause: str
) -> PrometheusError:
    if status is None:
        return PrometheusError(method, url, status=None, detail=f"cannot reach vmalert: {cause}")
    detail = body.strip().splitlines()[0] if body.strip() else f"HTTP {status}"
    return PrometheusError(method, url, status=status, body=body, detail=detail)


def vmalert_client(
    url: str,
    *,
    transport: Any = None,
    retry: RetryPolicy | None = None,
    limits: Limits | None = None,
) -> HttpClient:
    endpoint = parse_url(url, "--vmalert-url")
    if endpoint is None:
        raise ConfigError("--vmalert-url: give the URL of vmalert")
    auth = None
    if endpoint.user is not None and endpoint.password is not None:
        auth = (endpoint.user, endpoint.password.reveal())
    return HttpClient(
        endpoint.url,
        error=vmalert_error,
        auth=auth,
        transport=transport,
        retry=retry,
        limits=limits,
    )


def reload_vmalert(
    client: HttpClient,
    plan: RulesDirPlan,
    applied: tuple[Outcome, ...],
    *,
    wait_seconds: float = RELOAD_WAIT_SECONDS,
) -> list[Outcome]:
    """Reload vmalert when rule files changed (or groups are missing), then check."""
    url = client.base_url
    changed = any(o.kind == "rule_file" and o.action in _APPLIED and not o.error for o in applied)
    try:
        if not changed and not _missing(client, plan):
            return []
        before = _metric(client, _RELOADS)
        client.request("POST", "/-/reload")
        deadline = time.monotonic() + wait_seconds
        while _metric(client, _RELOADS) <= before:
            if time.monotonic() >= deadline:
                return [
                    Outcome(
                        "vmalert",
                        "reload",
                        url,
                        error=f"vmalert did not reload within {wait_seconds:g} s",
                    )
                ]
            time.sleep(POLL_SECONDS)
        if not _metric(client, _SUCCESSFUL):
            detail = _dry_run(plan.directory)
            return [
                Outcome(
                    "vmalert",
                    "reload",
                    url,
                    error="vmalert refused the rules and keeps its previous ones" + detail,
                )
            ]
        outcomes = [Outcome("vmalert", "reload", url)]
        missing = _missing(client, plan)
    except PerfdashError as exc:
        return [Outcome("vmalert", "reload", url, error=str(exc))]
    if missing:
        listed = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        outcomes.append(
            Outcome(
                "vmalert",
                "check",
                url,
                error=f"{len(missing)} rule group(s) not loaded from {plan.directory}: {listed}; "
                f"is vmalert started with -rule={plan.directory}/*.yaml?",
            )
        )
    return outcomes


def _metric(client: HttpClient, name: str) -> float:
    text = client.request("GET", "/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise PrometheusError(
        "GET", f"{client.base_url}/metrics", status=200, detail=f"no {name}: is this vmalert?"
    )


def _missing(client: HttpClient, plan: RulesDirPlan) -> list[str]:
    answer = client.json(client.request("GET", "/api/v1/rules"))
    loaded = {
        (str(g.get("name")), Path(str(g.get("file", ""))).name)
        for g in ((answer.get("data") or {}).get("groups") or [])
    }
    return sorted(group for group, file in plan.groups.items() if (group, file) not in loaded)


def _dry_run(directory: Path) -> str:
    binary = shutil.which("vmalert")
    if binary is None:
        return f"; run `vmalert -dryRun -rule={directory}/*.yaml` to see why"
    try:
        done = subprocess.run(
            [binary, "-dryRun", f"-rule={directory}/*.yaml", "-loggerLevel=ERROR"],
            capture_output=True,
            text=True,
            timeout=DRY_RUN_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f" (vmalert -dryRun would say why, but: {exc})"
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return "\n  vmalert -dryRun:\n" + "\n".join(f"    {line}" for line in lines[-10:])
