"""Checks that need the mapped model: alerts that can never fire, objectives written as
ratios, and the text of alerts as Prometheus will read it.

Prometheus treats every label value and annotation of an alerting rule as a Go
template. perfdash renders its own ``[[ ]]`` templates first; the result, the alert
labels and the runbook URL must then parse as Go templates, or the whole rule file
fails to load. All of that is checked here, at the declaration, with every window the
rules will render, so nothing is left to fail in ``perfdash test``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from perfdash.errors import Problem
from perfdash.model import templates as alert_text
from perfdash.model.fleet import SLO, Service
from perfdash.model.windows import burn_threshold, window_facts
from perfdash.numbers import format_decimal
from perfdash.spec.document import Document, PathKey
from perfdash.spec.go_template import ALERT_VARIABLES, GoTemplateError, check_alert_template
from perfdash.spec.mapping import MappedService

_CONTEXT_NAMES = frozenset(alert_text.CONTEXT_NAMES)
_OWN_TEMPLATES = (alert_text.DEFAULT_SUMMARY, alert_text.DEFAULT_DESCRIPTION)
_ZERO, _ONE = Decimal(0), Decimal(1)
# What the schema refuses in annotation templates, also refused in what they render.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def check_service(document: Document, mapped: MappedService) -> list[Problem]:
    problems: list[Problem] = []
    problems += _label_templates(document, ("metadata", "labels"))
    problems += _label_templates(document, ("spec", "alerting", "labels"))
    runbook = mapped.service.runbook
    if runbook is not None:
        error = _go_error(runbook)
        if error:
            problems.append(
                document.problem(
                    ("metadata", "runbook"),
                    f"alerts carry the runbook URL as a template and Prometheus would refuse "
                    f"it: {error}",
                )
            )
    for index, slo in mapped.slos:
        path: PathKey = ("spec", "slos", index)
        problems += _label_templates(document, (*path, "alerting", "labels"))
        if _ZERO < slo.objective < _ONE:
            suggestion = format_decimal(slo.objective * 100)
            problems.append(
                document.problem(
                    (*path, "objective"),
                    f"objective is a percentage: did you mean {suggestion}? "
                    f"({slo.objective} means {slo.objective}% of events are good)",
                )
            )
        else:  # with a ratio every alert would look broken: the hint says why
            problems += _windows(document, path, slo)
        problems += _annotations(document, mapped.service, path, slo)
    return problems


def _windows(document: Document, path: PathKey, slo: SLO) -> list[Problem]:
    """Refuse alerts that can never fire, and windows longer than the SLO window."""
    problems = []
    for window in slo.alerting.enabled_windows():
        if window.long > slo.window:
            problems.append(
                document.problem(
                    (*path, "window"),
                    f"the {window.severity} alert's long window {window.long} is longer than "
                    f"the SLO window {slo.window}",
                )
            )
            continue
        threshold = burn_threshold(window, slo)
        if threshold >= 1:
            factor = window.burn_factor(slo.window)
            problems.append(
                document.problem(
                    (*path, "objective"),
                    f"the {window.severity} alert over {window.long}/{window.short} can never "
                    f"fire: burn factor {float(factor):g} x error budget {slo.error_budget} = "
                    f"{float(threshold):g} >= 1 (an error ratio cannot exceed 100%); disable it "
                    f"(alerting.{window.severity}: false) or declare alerting.windows",
                )
            )
    return problems


def _annotations(document: Document, service: Service, path: PathKey, slo: SLO) -> list[Problem]:
    """Render each custom annotation for every alert pair, as the rules will, and check
    what Prometheus receives."""
    annotations = slo.alerting.annotations
    declared = [
        ("summary", annotations.summary),
        ("description", annotations.description),
        *annotations.extra,
    ]
    # perfdash's own templates are tested, not checked again for every SLO
    own = [(field, template) for field, template in declared if template not in _OWN_TEMPLATES]
    facts = window_facts(slo) if own else ()
    if not facts:
        return []
    base = alert_text.base_context(service, slo)
    problems = []
    for field, template in own:
        where = _source_of(document, path, ("annotations", field))
        message = _annotation_problem(
            template, [alert_text.burn_context(service, slo, f, base=base) for f in facts]
        )
        if message:
            problems.append(document.problem(where, message))
    return problems


def _annotation_problem(template: str, contexts: list[dict[str, Any]]) -> str | None:
    lines = template.count("\n") > 0
    for context in contexts:
        try:
            text = alert_text.render(template, context)
        except alert_text.AnnotationTemplateError as exc:
            at = f" (line {exc.line} of the template)" if lines and exc.line else ""
            return f"annotation template{at}: {exc}"
        control = _CONTROL.search(text)
        if control:
            return (
                f"the rendered annotation contains the control character "
                f"U+{ord(control.group()):04X}: alerts are read in terminals and chat"
            )
        error = _go_error(text)
        if error:
            return f"Prometheus would refuse the annotation: {error}"
    return None


def _label_templates(document: Document, path: PathKey) -> list[Problem]:
    """Alert label values are Go templates to Prometheus too."""
    if not document.clean(path):
        return []
    labels: Any = document.data
    for part in path:
        found = isinstance(labels, dict) and part in labels
        found = found or (isinstance(labels, list) and isinstance(part, int) and part < len(labels))
        if not found:
            return []
        labels = labels[part]
    problems = []
    for name, value in labels.items():
        error = _go_error(value) if isinstance(value, str) else None
        if error:
            problems.append(
                document.problem(
                    (*path, name),
                    f"Prometheus reads alert label values as templates and would refuse this "
                    f"one: {error}",
                )
            )
    return problems


def _go_error(text: str) -> str | None:
    try:
        check_alert_template(text)
    except GoTemplateError as exc:
        message = exc.message
        at = f" (line {exc.line})" if "\n" in text else ""
        name = message.split('"')[1] if message.startswith("function ") else ""
        if name in _CONTEXT_NAMES:
            message += f": perfdash's values are written [[ {name} ]]; {{{{ }}}} is Prometheus' own"
        elif message.startswith("undefined variable"):
            message += f" (Prometheus defines {', '.join(ALERT_VARIABLES[1:])})"
        return message + at
    return None


def _source_of(document: Document, slo_path: PathKey, key: tuple[str, ...]) -> PathKey:
    own = (*slo_path, "alerting", *key)
    if own in document.positions:
        return own
    return ("spec", "alerting", *key)
