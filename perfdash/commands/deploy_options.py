"""Options and helpers shared by ``perfdash plan`` and ``perfdash apply`` (CLI only).

Connection settings come from these options, then the environment, then
``perfdash.yaml`` (``perfdash.deploy.settings``). Secrets have no option on purpose: they come
from GRAFANA_TOKEN / GRAFANA_PASSWORD or a file, never from argv.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from perfdash.deploy.settings import DeploySettings, load_settings
from perfdash.terminal import terminal_safe

F = TypeVar("F", bound=Callable[..., Any])
SETTING_OPTIONS = (
    "grafana_url",
    "grafana_user",
    "org_id",
    "ca_cert",
    "insecure",
    "concurrency",
    "timeout",
    "retries",
    "max_response_mb",
    "max_pages",
    "rules_dir",
    "ruler_url",
    "ruler_namespace",
    "tenant",
    "prometheus_url",
    "pushgateway",
)

_OPTIONS = (
    click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="Settings file (default: perfdash.yaml here, when present).",
    ),
    click.option(
        "--grafana-url",
        metavar="URL",
        help="Grafana to deploy dashboards to [env GRAFANA_URL]. Credentials: GRAFANA_TOKEN "
        "(service-account token) or GRAFANA_USER + GRAFANA_PASSWORD, from the environment.",
    ),
    click.option("--grafana-user", metavar="USER", help="Basic-auth user [env GRAFANA_USER]."),
    click.option(
        "--org-id",
        type=click.IntRange(min=1),
        help="Grafana org (X-Grafana-Org-Id) [env GRAFANA_ORG_ID].",
    ),
    click.option(
        "--ca-cert",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="CA bundle that signed Grafana's certificate (TLS is always verified).",
    ),
    click.option(
        "--insecure",
        is_flag=True,
        default=None,
        help="Do not verify Grafana's TLS certificate (prints a warning; avoid).",
    ),
    click.option(
        "--concurrency",
        type=click.IntRange(min=1),
        help="Requests to Grafana at once (default 8).",
    ),
    click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        help="Seconds for each request as a whole, first byte to last, to any server (30).",
    ),
    click.option(
        "--retries",
        type=click.IntRange(min=1),
        help="Attempts per request on 429, 5xx, timeouts, dropped connections (5).",
    ),
    click.option(
        "--max-response-mb",
        type=click.FloatRange(min=0.001),
        help="Largest answer accepted from any server, in MiB (32); larger ones are refused.",
    ),
    click.option(
        "--max-pages",
        type=click.IntRange(min=1),
        help="Most pages read of one Grafana list (100 pages of folders or search hits).",
    ),
    click.option(
        "--rules-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Also deploy the rule files into this folder (one Prometheus loads).",
    ),
    click.option(
        "--ruler-url",
        metavar="URL",
        help="Also deploy the rule groups to this Mimir/Cortex ruler "
        "(<URL>/prometheus/config/v1/rules).",
    ),
    click.option(
        "--ruler-namespace",
        metavar="NAME",
        help="Ruler namespace for perfdash's groups (default perfdash).",
    ),
    click.option("--tenant", metavar="ID", help="Ruler tenant, sent as X-Scope-OrgID."),
    click.option(
        "--prune",
        is_flag=True,
        help="Delete what perfdash generated before and no longer does (dashboards tagged "
        "perfdash in its folders, its rule files and groups). Without it, they are listed "
        "as prune candidates.",
    ),
)


def deploy_options(function: F) -> F:
    for option in reversed(_OPTIONS):
        function = option(function)
    return function


def verbose_option(function: F) -> F:
    return click.option(
        "-v",
        "--verbose",
        count=True,
        help="Log every request (method, URL, status, time; never credentials). -vv: "
        "also httpx's own log.",
    )(function)


def deploy_settings(options: Mapping[str, Any]) -> DeploySettings:
    """Settings from these options, the environment and the config file."""
    settings = load_settings(
        options={k: options.get(k) for k in SETTING_OPTIONS},
        environ=os.environ,
        config_path=options.get("config_path"),
    )
    if settings.grafana is not None and settings.grafana.insecure:
        click.echo(
            terminal_safe(
                f"warning: TLS verification is off for {settings.grafana.url} (--insecure): "
                "anyone on the path can read the token; use --ca-cert instead"
            ),
            err=True,
        )
    return settings
