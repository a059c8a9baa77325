"""Plain-text rendering of results for people (tables). Machines get JSON elsewhere."""

from __future__ import annotations

from collections.abc import Sequence

from perfdash.durations import humanize_seconds
from perfdash.explain import Explanation
from perfdash.numbers import format_decimal, human_number
from perfdash.verify.routes import RouteResult
from perfdash.verify.rules import RuleCheckReport


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def explanation_text(explanation: Explanation) -> str:
    service, slo = explanation.service, explanation.slo
    kind = slo.sli.kind
    grouping = f", one per {', '.join(slo.grouping)}" if slo.grouping else ""
    lines = [
        f"{service.name}/{slo.name}: {format_decimal(slo.objective)}% good over {slo.window} "
        f"({kind} SLI{grouping}); team {service.team}, priority {service.priority}",
        f"error budget: {format_decimal(slo.error_budget * 100)}% of events",
        "",
        "Budget as minutes of total outage per window:",
        table(
            ["window", "budget"],
            [[str(w), _minutes(seconds)] for w, seconds in explanation.budget],
        ),
    ]
    if not explanation.windows:
        lines += ["", "No burn-rate alerts (page and ticket tiers are disabled)."]
        return "\n".join(lines)
    for_text = f" + for {slo.alerting.for_}" if slo.alerting.for_ else ""
    lines += [
        "",
        f"Burn-rate alerts ({slo.alerting.name}); detection is for a total outage{for_text}:",
        table(
            [
                "severity",
                "long/short",
                "factor",
                "error ratio >",
                "budget spent",
                "detection",
                "workbook",
                "exhaustion",
            ],
            [
                [
                    f.window.severity,
                    f"{f.window.long}/{f.window.short}",
                    human_number(f.factor),
                    f"{human_number(f.threshold * 100, digits=4)}%",
                    f"{format_decimal(f.budget_consumed * 100)}%",
                    humanize_seconds(f.detection_seconds),
                    humanize_seconds(f.workbook_detection_seconds),
                    humanize_seconds(f.exhaustion_seconds),
                ]
                for f in explanation.windows
            ],
        ),
        "",
        "detection: time from the outage's start until both windows exceed the threshold with",
        "perfdash's rules (windows over 6h are built from 5m rates and lag up to 2.5m);",
        "workbook: the SRE Workbook's figure (threshold x long window); exhaustion: time to",
        "spend the whole budget at exactly that burn factor.",
    ]
    return "\n".join(lines)


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{human_number(minutes, digits=4)} min ({humanize_seconds(seconds)})"


def test_report_text(report: RuleCheckReport, routing: Sequence[RouteResult] | None) -> str:
    """``perfdash test``: a line per SLO and per route test, then the counts."""
    lines = [f"promtool check rules: {len(report.rule_files)} files ok"]
    for result in report.results:
        name = f"{result.service}/{result.slo}"
        if result.status == "passed":
            lines.append(f"PASS  {name}")
        elif result.status == "untested":
            lines.append(f"SKIP  {name}: {result.detail}")
        else:
            lines.append(f"FAIL  {name}")
            lines += ["      " + line for line in result.detail.splitlines()]
    for route in routing or []:
        verdict = "PASS" if route.ok else "FAIL"
        lines.append(f"{verdict}  route {route.name} -> {', '.join(route.got) or 'nothing'}")
        if not route.ok:
            lines.append(f"      expected {route.expected}")
    counts = {
        s: sum(r.status == s for r in report.results) for s in ("passed", "failed", "untested")
    }
    summary = (
        f"{counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['untested']} without generated tests"
    )
    if routing is not None:
        summary += f"; routes: {sum(r.ok for r in routing)} passed, {sum(not r.ok for r in routing)} failed"
    lines.append(summary)
    return "\n".join(lines)


def test_failures(report: RuleCheckReport, routing: Sequence[RouteResult] | None) -> str:
    """The error message when anything failed, else ""."""
    slos = sum(r.status == "failed" for r in report.results)
    routes = sum(not r.ok for r in routing or [])
    if not slos and not routes:
        return ""
    return f"{slos} SLO(s) failed their rule tests, {routes} route test(s) failed"
