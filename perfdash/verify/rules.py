"""``perfdash test``: run promtool on the generated output and report per SLO."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from perfdash import conventions
from perfdash.model.fleet import SLO, Fleet, Service
from perfdash.prometheus import promtool
from perfdash.prometheus.rule_tests import build_slo_tests, untestable_reason


def generated_tests(service: Service, slo: SLO) -> set[str]:
    """The test files a build writes for this SLO (the slow-burn one only with alerts)."""
    return set(build_slo_tests(service, slo))


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


def run_rule_checks(
    fleet: Fleet,
    out_dir: Path,
    *,
    jobs: int | None = None,
    services: frozenset[str] | None = None,
) -> RuleCheckReport:
    """``promtool check rules`` on every rule file (raises PromtoolError when one is
    rejected), then ``promtool test rules`` on every generated test file."""
    chosen = [s for s in fleet.services if services is None or s.name in services]
    rule_files = [conventions.rule_file_path(s.name) for s in chosen if s.slos]
    checked = (
        promtool.check_rules([Path(f) for f in rule_files], cwd=out_dir) if rule_files else None
    )

    # Per SLO: a verdict already known (untested, files missing), or the files to run.
    known: dict[tuple[str, str], SLOResult] = {}
    planned: dict[tuple[str, str], list[str]] = {}
    for service in chosen:
        for slo in service.slos:
            key = (service.name, slo.name)
            reason = untestable_reason(service, slo)
            if reason:
                known[key] = SLOResult(*key, "untested", reason)
                continue
            generated = generated_tests(service, slo)
            files = [
                f for f in conventions.rule_test_paths(service.name, slo.name) if f in generated
            ]
            missing = [f for f in files if not (out_dir / f).is_file()]
            if missing:
                detail = f"generated test file missing ({', '.join(missing)}): run perfdash build"
                known[key] = SLOResult(*key, "failed", detail, tuple(files))
                continue
            planned[key] = files
    to_run = [f for files in planned.values() for f in files]
    runs = dict(
        zip(
            to_run,
            promtool.test_rules_each([Path(f) for f in to_run], cwd=out_dir, jobs=jobs),
            strict=True,
        )
    )

    results = []
    for service in chosen:
        for slo in service.slos:
            key = (service.name, slo.name)
            if key in known:
                results.append(known[key])
                continue
            failed = [runs[f] for f in planned[key] if not runs[f].ok]
            detail = "\n".join(run.output for run in failed)
            results.append(
                SLOResult(*key, "failed" if failed else "passed", detail, tuple(planned[key]))
            )
    return RuleCheckReport(tuple(rule_files), checked.output if checked else "", tuple(results))
