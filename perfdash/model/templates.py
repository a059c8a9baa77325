"""Alert annotations rendered from Jinja2 templates, in a sandbox.

Templates use ``[[ ]]`` and ``[% %]`` as Jinja delimiters so that ``{{ }}`` stays free
for Prometheus' own alert templating (``{{ $labels.route }}``, ``{{ $value }}``),
which Prometheus renders when the alert fires. Users may override ``summary`` and
``description`` per service or per SLO; the sandbox (``perfdash.model.sandbox``) keeps
a declaration from reaching Python internals and bounds its time, memory and output,
and StrictUndefined turns a typo into a validation error.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from perfdash.durations import humanize_seconds
from perfdash.model.fleet import SLO, Service
from perfdash.model.sandbox import BoundedEnvironment, compile_bounded, render_bounded
from perfdash.model.windows import WindowFacts, budget_seconds
from perfdash.numbers import format_decimal, human_number

DEFAULT_SUMMARY = (
    "[[ service ]]/[[ slo ]][[ group ]] is burning its error budget "
    "[[ factor ]]x too fast ([[ long ]]/[[ short ]])"
)
DEFAULT_DESCRIPTION = (
    "The [[ slo ]] SLO of [[ service ]][[ group ]] (objective [[ objective ]]% over "
    "[[ window ]]) has burnt error budget at more than [[ factor ]]x the sustainable rate "
    "over the last [[ long ]] and [[ short ]]. Firing means [[ budget_consumed ]]% of the "
    "[[ window ]] budget is already spent; at this rate all of it is gone in [[ exhaustion ]]."
    "[% if runbook_url %] Runbook: [[ runbook_url ]][% endif %]"
)
MISSING_DATA_SUMMARY = "[[ service ]]/[[ slo ]] has no SLI data"
MISSING_DATA_DESCRIPTION = (
    "The series behind the [[ slo ]] SLO of [[ service ]] have been absent for "
    "[[ missing_for ]], so the SLO and its burn-rate alerts measure nothing. Check that the "
    "service is scraped and its metrics still exist[[ missing_hint ]]."
    "[% if runbook_url %] Runbook: [[ runbook_url ]][% endif %]"
)

# What templates see (base_context, then burn_context's additions).
CONTEXT_NAMES = (
    "service", "team", "tier", "priority", "slo", "slo_description", "objective", "window",
    "error_budget", "budget_minutes", "grouping", "group", "labels", "runbook_url",
    "severity", "long", "short", "factor", "threshold", "budget_consumed", "exhaustion",
    "detection",
)  # fmt: skip
_OWN_TEMPLATES = frozenset(
    [DEFAULT_SUMMARY, DEFAULT_DESCRIPTION, MISSING_DATA_SUMMARY, MISSING_DATA_DESCRIPTION]
)


class AnnotationTemplateError(ValueError):
    """A template does not compile, fails (a name perfdash does not provide, 1/0...), or
    goes past the sandbox's limits. ``line`` is the template's line, when known."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


_DELIMITERS: dict[str, Any] = {
    "variable_start_string": "[[",
    "variable_end_string": "]]",
    "block_start_string": "[%",
    "block_end_string": "%]",
    "comment_start_string": "[#",
    "comment_end_string": "#]",
    "undefined": StrictUndefined,
    "keep_trailing_newline": False,
    "autoescape": False,
}


@cache
def _bounded_environment() -> BoundedEnvironment:
    return BoundedEnvironment(**_DELIMITERS)


@cache
def _own_environment() -> ImmutableSandboxedEnvironment:
    """For perfdash's own templates, which print values and nothing more: a build renders
    them tens of thousands of times, and the limits' bookkeeping would cost 7x."""
    return ImmutableSandboxedEnvironment(**_DELIMITERS)


@lru_cache(maxsize=512)
def _compiled(template: str) -> Template:
    if template in _OWN_TEMPLATES:
        compiled = _own_environment().from_string(template)
    else:
        compiled = compile_bounded(_bounded_environment(), template)
    # Jinja keeps a template's globals as a ChainMap over the environment's and copies
    # it into every render's context, key by key in Python: a fifth of the time spent on
    # rules. The environment's globals never change, so a plain dict holds the same.
    compiled.globals = dict(compiled.globals)
    return compiled


def render(template: str, context: dict[str, Any]) -> str:
    """``template`` rendered with ``context``, or AnnotationTemplateError."""
    try:
        if template in _OWN_TEMPLATES:
            return _compiled(template).render(context)
        return render_bounded(_compiled(template), context)
    except TemplateSyntaxError as exc:
        raise AnnotationTemplateError(exc.message or str(exc), line=exc.lineno) from exc
    except RecursionError as exc:
        raise AnnotationTemplateError(
            "a macro or recursive loop calls itself without end (recursion too deep)"
        ) from exc
    except Exception as exc:  # a template is the declaration's code: all it raises is its fault
        raise AnnotationTemplateError(str(exc) or type(exc).__name__) from exc


def group_suffix(slo: SLO) -> str:
    """`` [route={{ $labels.route }}]`` for grouped SLOs: Prometheus fills it in per alert."""
    if not slo.grouping:
        return ""
    parts = ", ".join(f"{label}={{{{ $labels.{label} }}}}" for label in slo.grouping)
    return f" [{parts}]"


def runbook_url(service: Service, slo: SLO) -> str:
    """The SLO's own runbook, else ``<runbook>#<slo>``: its section of the service runbook
    ("" without either)."""
    if slo.runbook:
        return slo.runbook
    return f"{service.runbook}#{slo.name}" if service.runbook else ""


def base_context(service: Service, slo: SLO) -> dict[str, Any]:
    return {
        "service": service.name,
        "team": service.team,
        "tier": service.tier,
        "priority": service.priority,
        "slo": slo.name,
        "slo_description": slo.description,
        "objective": format_decimal(slo.objective),
        "window": str(slo.window),
        "error_budget": format_decimal(slo.error_budget),
        "budget_minutes": human_number(budget_seconds(slo) / 60, digits=4),
        "grouping": list(slo.grouping),
        "group": group_suffix(slo),
        "labels": dict(service.labels),
        "runbook_url": runbook_url(service, slo),
    }


def burn_context(
    service: Service, slo: SLO, facts: WindowFacts, *, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``base_context`` (or a copy of ``base``, the same computed once per SLO) plus the
    alert pair's figures."""
    context = dict(base) if base is not None else base_context(service, slo)
    context.update(
        severity=facts.window.severity,
        long=str(facts.window.long),
        short=str(facts.window.short),
        factor=human_number(facts.factor),
        threshold=human_number(facts.threshold, digits=6),
        budget_consumed=format_decimal(facts.budget_consumed * 100),
        exhaustion=humanize_seconds(facts.exhaustion_seconds),
        detection=humanize_seconds(facts.detection_seconds),
    )
    return context


def burn_annotations(
    service: Service, slo: SLO, facts: WindowFacts, *, base: dict[str, Any] | None = None
) -> dict[str, str]:
    context = burn_context(service, slo, facts, base=base)
    return _with_runbook(
        {
            "summary": render(slo.alerting.annotations.summary, context),
            "description": render(slo.alerting.annotations.description, context),
            **_extra(slo, context),
        },
        context["runbook_url"],
    )


def missing_data_annotations(service: Service, slo: SLO, *, hint: str) -> dict[str, str]:
    context = base_context(service, slo)
    context.update(missing_for=str(slo.alerting.missing_data_for), missing_hint=hint)
    return _with_runbook(
        {
            "summary": render(MISSING_DATA_SUMMARY, context),
            "description": render(MISSING_DATA_DESCRIPTION, context),
            **_extra(slo, missing_data_context(context)),
        },
        context["runbook_url"],
    )


def missing_data_context(context: dict[str, Any]) -> dict[str, Any]:
    """What an extra annotation sees on SLIDataMissing: the SLO's values; the figures of
    a window pair are empty, there being none."""
    return {
        "severity": "",
        "long": "",
        "short": "",
        "factor": "",
        "threshold": "",
        "budget_consumed": "",
        "exhaustion": "",
        "detection": "",
        **context,
    }


def _extra(slo: SLO, context: dict[str, Any]) -> dict[str, str]:
    """The declared annotations beyond summary and description, rendered."""
    return {name: render(template, context) for name, template in slo.alerting.annotations.extra}


def _with_runbook(annotations: dict[str, str], url: str) -> dict[str, str]:
    return {**annotations, "runbook_url": url} if url else annotations
