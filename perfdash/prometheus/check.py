"""``perfdash test``: run promtool on the generated output and report per SLO."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from perfdash.prometheus import promtool
from perfdash.prometheus.rule_tests import test_file_paths, untestable_reason
from perfdash.prometheus.rules import rule_file_path
from perfdash.spec.model import Fleet


@dataclass(frozen=True)
class SLOResult:
    service: str
    slo: str
    status: str  # "passed", "failed" or "untested"
    detail: str = ""  # promtool's output when failed, the reason when untested
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleCheckReport:
    rule_files: tuple[str, ...]
    check_output: str
    results: tuple[SLOResult, ...]

    @property
    def ok(self) -> bool:
        return all(r.status != "failed" for r in self.results)


def run_rule_checks(fleet: Fleet, out_dir: Path, *, jobs: int | None = None) -> RuleCheckReport:
    """``promtool check rules`` on every rule file (raises PromtoolError when one is
    rejected), then ``promtool test rules`` on every generated test file."""
    rule_files = [rule_file_path(s) for s in fleet.services if s.slos]
    checked = (
        promtool.check_rules([Path(f) for f in rule_files], cwd=out_dir) if rule_files else None
    )

    plan: list[tuple[str, str, list[str]]] = []
    untested: dict[tuple[str, str], str] = {}
    for service in fleet.services:
        for slo in service.slos:
            reason = untestable_reason(service, slo)
            if reason:
                untested[(service.name, slo.name)] = reason
                continue
            files = [f for f in test_file_paths(service, slo) if (out_dir / f).is_file()]
            plan.append((service.name, slo.name, files))
    runs = promtool.test_rules_each(
        [Path(f) for _, _, files in plan for f in files], cwd=out_dir, jobs=jobs
    )
    by_file = dict(zip([f for _, _, files in plan for f in files], runs, strict=True))

    results = []
    for service in fleet.services:
        for slo in service.slos:
            key = (service.name, slo.name)
            if key in untested:
                results.append(SLOResult(*key, "untested", untested[key]))
                continue
            files = next(f for s, n, f in plan if (s, n) == key)
            if not files:
                results.append(
                    SLOResult(*key, "failed", "no generated test file: run perfdash build")
                )
                continue
            failed = [by_file[f] for f in files if not by_file[f].ok]
            detail = "\n".join(run.output for run in failed)
            results.append(SLOResult(*key, "failed" if failed else "passed", detail, tuple(files)))
    return RuleCheckReport(tuple(rule_files), checked.output if checked else "", tuple(results))
