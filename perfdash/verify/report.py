"""``perfdash test``'s report as text: a line per SLO and per route test, then the counts."""

from __future__ import annotations

from collections.abc import Sequence

from perfdash.verify.routes import RouteResult
from perfdash.verify.rules import RuleCheckReport


def test_report_text(report: RuleCheckReport, routing: Sequence[RouteResult] | None) -> str:
    """``perfdash test``: a line per SLO and per route test, then the counts."""
    recorded = len(report.rule_files) - report.checked
    lines = [
        f"promtool check rules: {len(report.rule_files)} files ok"
        + (f" ({recorded} unchanged since they last passed)" if recorded else "")
    ]
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
    hows = {how: sum(r.how == how for r in report.results) for how in ("shape", "recorded")}
    lines.append(
        f"promtool ran {report.runs} tests; {hows['shape']} SLOs passed as the same rules as "
        f"one that ran (up to names), {hows['recorded']} were unchanged since they last passed"
    )
    return "\n".join(lines)


def test_failures(report: RuleCheckReport, routing: Sequence[RouteResult] | None) -> str:
    """The error message when anything failed, else ""."""
    slos = sum(r.status == "failed" for r in report.results)
    routes = sum(not r.ok for r in routing or [])
    if not slos and not routes:
        return ""
    return f"{slos} SLO(s) failed their rule tests, {routes} route test(s) failed"
