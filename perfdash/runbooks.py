"""``perfdash runbooks``: a Markdown runbook stub per service that does not have one yet.

Each SLO gets a section whose heading is the SLO name, so the ``runbook_url`` the alerts
carry (``<runbook>#<slo>``) lands on it. The numbers (objective, budget, the alert table
of ``perfdash explain``) come from the declaration; the template is Jinja2 and can be
replaced (``--template``). Existing files are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from perfdash import conventions
from perfdash.conventions import dashboard_uid
from perfdash.durations import humanize_seconds
from perfdash.errors import Problem, SpecError
from perfdash.model.fleet import SLO, Fleet, Service, series_selector
from perfdash.model.windows import budget_seconds, window_facts
from perfdash.numbers import format_decimal, human_number


def default_template() -> str:
    return (
        resources.files("perfdash.templates").joinpath("runbook.md.j2").read_text(encoding="utf-8")
    )


@dataclass(frozen=True)
class RunbookPlan:
    written: dict[str, str]  # file name -> Markdown
    kept: tuple[str, ...]  # stubs not written because the file exists


def plan_runbooks(
    fleet: Fleet,
    existing: set[str],
    *,
    template: str | None = None,
    template_name: str = "runbook.md.j2",
    grafana_url: str = "",
) -> RunbookPlan:
    """Stubs for every service with SLOs whose ``<service>.md`` is not in ``existing``."""
    environment = SandboxedEnvironment(
        undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    try:
        compiled = environment.from_string(template or default_template())
    except TemplateError as exc:
        raise SpecError(
            [Problem(template_name, getattr(exc, "lineno", 0) or 0, 0, "template", str(exc))]
        ) from exc
    written, kept = {}, []
    for service in fleet.services:
        if not service.slos:
            continue
        name = f"{service.name}.md"
        if name in existing:
            kept.append(name)
            continue
        try:
            written[name] = compiled.render(_context(service, grafana_url.rstrip("/")))
        except TemplateError as exc:
            raise SpecError(
                [Problem(template_name, getattr(exc, "lineno", 0) or 0, 0, "template", str(exc))]
            ) from exc
    return RunbookPlan(written, tuple(kept))


def _context(service: Service, grafana_url: str) -> dict[str, Any]:
    return {
        "service": service,
        "dashboard_uid": dashboard_uid(service.name),
        "grafana_url": grafana_url,
        "slos": [_slo_context(service, slo) for slo in service.slos],
    }


def _slo_context(service: Service, slo: SLO) -> dict[str, Any]:
    own = conventions.slo_selector(service.name, slo.name)
    facts = window_facts(slo)
    windows = sorted({w for f in facts for w in (f.window.long, f.window.short)})
    return {
        "slo": slo,
        "objective": format_decimal(slo.objective),
        "bad": _bad_events(service, slo),
        "budget_percent": format_decimal(slo.error_budget * 100),
        "budget_total": humanize_seconds(budget_seconds(slo)),
        "windows": [
            {
                "severity": f.window.severity,
                "pair": f"{f.window.long}/{f.window.short}",
                "factor": human_number(f.factor),
                "threshold": human_number(f.threshold * 100),
                "budget": format_decimal(f.budget_consumed * 100),
                "detection": humanize_seconds(f.detection_seconds),
                "exhaustion": humanize_seconds(f.exhaustion_seconds),
            }
            for f in facts
        ],
        "queries": [f"{service.series(conventions.error_ratio_name(w))}{own}" for w in windows]
        or [f"{service.series(conventions.error_ratio_name(slo.window))}{own}"],
    }


def _bad_events(service: Service, slo: SLO) -> str:
    sli = slo.sli
    if sli.kind == "events":
        return "`" + series_selector(sli.total, (*service.selector, *sli.matchers, *sli.bad)) + "`"
    if sli.kind == "latency":
        return f"requests of `{sli.histogram}` slower than {format_decimal(sli.threshold)}s"
    return f"`{sli.bad.strip()}` out of `{sli.total.strip()}`"
