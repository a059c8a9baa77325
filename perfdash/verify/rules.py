"""``perfdash test``, Prometheus part: promtool on the generated rules and unit tests.

For each SLO (``verify.units``): its test files and its own rule groups. What runs:
- nothing, when the record (``verify.record``) holds that exact test as passed;
- else once per shape (``verify.shapes``): SLOs that are provably the same up to names
  share one promtool run;
- ``promtool check rules`` on each rule file, also recorded by content.
promtool processes run ``jobs`` at a time; an interruption stops them all. The files
under test must be what the declarations generate: anything stale is an error first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from perfdash import conventions
from perfdash.errors import OutputError, PromtoolError
from perfdash.model.fleet import Fleet, Service
from perfdash.parallel import default_jobs, map_chunks
from perfdash.process import ToolRun, stop_children
from perfdash.prometheus import promtool
from perfdash.prometheus.rule_tests import untestable_reason
from perfdash.prometheus.rules import rule_file, service_groups
from perfdash.verify.fingerprint import code_fingerprint, model_fingerprint
from perfdash.verify.record import TestRecord
from perfdash.verify.shapes import shape_of
from perfdash.verify.units import slo_unit, test_key, write_runnable

CHECK_BATCH = 100  # rule files per `promtool check rules`
Progress = Callable[[int, int, str], None]  # (runs done, runs in all, what just ran)


@dataclass(frozen=True)
class SLOResult:
    service: str
    slo: str
    status: str  # "passed", "failed" or "untested"
    detail: str = ""  # promtool's output when failed, the reason when untested
    files: tuple[str, ...] = ()
    how: str = ""  # "ran", "recorded" (passed before, unchanged), "shape" (same as a run)


@dataclass(frozen=True)
class RuleCheckReport:
    rule_files: tuple[str, ...]
    check_output: str
    results: tuple[SLOResult, ...]
    runs: int = 0  # promtool test runs made
    checked: int = 0  # rule files promtool checked now (the others were recorded)

    @property
    def ok(self) -> bool:
        return all(r.status != "failed" for r in self.results)


@dataclass(frozen=True)
class _Seen:
    """One SLO as a worker saw it: its files compared with the disk, its test's key."""

    service: str
    slo: str
    files: tuple[str, ...]
    key: str | None  # None: untestable
    reason: str = ""


@dataclass(frozen=True)
class _Rules:
    path: str
    key: str
    stale: tuple[str, ...] = ()
    slos: tuple[_Seen, ...] = field(default_factory=tuple)
    remember: tuple[str, str, str] | None = None  # (code, model fingerprint, payload) to record


def run_rule_checks(
    fleet: Fleet,
    out_dir: Path,
    *,
    jobs: int | None = None,
    services: frozenset[str] | None = None,
    record: TestRecord | None = None,
    progress: Progress | None = None,
) -> RuleCheckReport:
    """Check and test the rules of ``services`` (default: all) under ``out_dir``.

    Raises OutputError when their generated files are not up to date, PromtoolError
    when promtool rejects a rule file."""
    record = record or TestRecord(None)
    chosen = [s for s in fleet.services if s.slos and (services is None or s.name in services)]
    found = [
        part
        for chunk in map_chunks(
            partial(_see, out_dir=out_dir, record=record, code=code_fingerprint()),
            chosen,
            jobs=jobs,
        )
        for part in chunk
    ]
    _refuse_stale(out_dir, [path for rules in found for path in rules.stale])
    for rules in found:
        if rules.remember is not None:
            record.remember(*rules.remember)
    version = promtool.version_text()
    seen = [_keyed(rules, version) for rules in found]
    checked, check_output = _check_rules(out_dir, seen, record, jobs=jobs)
    by_name = {service.name: service for service in chosen}
    pending = [s for rules in seen for s in rules.slos if s.key and not record.passed(s.key)]
    shapes = _shape_keys(pending, by_name, version, jobs)
    outcomes = _run_shapes(pending, shapes, by_name, record, jobs=jobs, progress=progress)
    results = []
    for rules in seen:
        for s in rules.slos:
            if s.key is None:
                results.append(SLOResult(s.service, s.slo, "untested", s.reason))
            elif (s.service, s.slo) in outcomes:
                results.append(outcomes[(s.service, s.slo)])
            else:
                results.append(SLOResult(s.service, s.slo, "passed", "", s.files, "recorded"))
    record.save()
    runs = len({shapes[(s.service, s.slo)] for s in pending} - {None})
    return RuleCheckReport(
        tuple(r.path for r in seen), check_output, tuple(results), runs=runs, checked=checked
    )


def _flatten(parts: Sequence[list[str | None]]) -> list[str | None]:
    return [item for part in parts for item in part]


def _keyed(rules: _Rules, version: str) -> _Rules:
    """``rules`` with content digests turned into keys of this promtool's results."""
    slos = tuple(
        dataclasses.replace(s, key=test_key(s.key, version) if s.key else None) for s in rules.slos
    )
    return dataclasses.replace(rules, key=test_key(rules.key, version), slos=slos)


def _see(
    services: Sequence[Service], *, out_dir: Path, record: TestRecord, code: str
) -> list[_Rules]:
    """In a worker: each service's rule file and test files compared with the disk, and
    the content digest of the rule file and of each SLO's test. A service the record
    has seen generated, with every file on disk as it was then, is not generated again."""
    seen = []
    for service in services:
        fingerprint = model_fingerprint(service, code)
        payload = record.generated(code, fingerprint) if fingerprint else None
        known = _from_payload(service.name, payload, out_dir) if payload else None
        if known is not None:
            seen.append(known)
            continue
        rules, payload = _generate(service, out_dir)
        remember = (code, fingerprint, payload) if fingerprint else None
        seen.append(dataclasses.replace(rules, remember=remember))
    return seen


def _generate(service: Service, out_dir: Path) -> tuple[_Rules, str]:
    """The service's files generated and compared with the disk; and the payload that
    lets the record answer the same without generating (``_from_payload``)."""
    path = conventions.rule_file_path(service.name)
    text = rule_file(service, service_groups(service))
    rules_digest = _digest(text.encode("utf-8"))
    stale = [] if _disk_digest(out_dir / path) == rules_digest else [path]
    slos = []
    described: list[list[object]] = []
    for slo in service.slos:
        unit = slo_unit(service, slo)
        if unit is None:
            reason = untestable_reason(service, slo) or "no test generated"
            slos.append(_Seen(service.name, slo.name, (), None, reason))
            described.append([slo.name, [], None, reason])
            continue
        digests = [[p, _digest(t.encode("utf-8"))] for p, t in unit.tests]
        stale += [p for p, d in digests if _disk_digest(out_dir / p) != d]
        files = tuple(p for p, _ in unit.tests)
        unit_digest = unit.digest()
        slos.append(_Seen(service.name, slo.name, files, unit_digest))
        described.append([slo.name, digests, unit_digest, ""])
    check_digest = hashlib.sha256(f"check\0{text}".encode()).hexdigest()
    rules = _Rules(path, check_digest, tuple(stale), tuple(slos))
    payload = {"rules": [path, rules_digest, check_digest], "slos": described}
    return rules, json.dumps(payload, separators=(",", ":"))


def _from_payload(service: str, payload: str, out_dir: Path) -> _Rules | None:
    """What ``_generate`` found for this model, when every file on disk still has the
    digest it had then; else None (generate again)."""
    described = json.loads(payload)
    path, rules_digest, check_digest = described["rules"]
    if _disk_digest(out_dir / path) != rules_digest:
        return None
    slos = []
    for name, digests, unit_digest, reason in described["slos"]:
        if any(_disk_digest(out_dir / p) != d for p, d in digests):
            return None
        files = tuple(p for p, _ in digests)
        slos.append(_Seen(service, name, files, unit_digest, reason))
    return _Rules(path, check_digest, (), tuple(slos))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _disk_digest(path: Path) -> str | None:
    try:
        return _digest(path.read_bytes())
    except OSError:
        return None


def _refuse_stale(out_dir: Path, stale: list[str]) -> None:
    if stale:
        shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
        raise OutputError(
            f"the generated files of the services under test are not up to date in {out_dir} "
            f"({shown}): run `perfdash build` first"
        )


def _check_rules(
    out_dir: Path, seen: Sequence[_Rules], record: TestRecord, *, jobs: int | None
) -> tuple[int, str]:
    """``promtool check rules`` on the rule files not recorded as checked, in batches."""
    todo = [rules for rules in seen if not record.passed(rules.key)]
    batches = [todo[i : i + CHECK_BATCH] for i in range(0, len(todo), CHECK_BATCH)]
    outputs = _in_parallel(
        [
            partial(promtool.run, ["check", "rules", *(r.path for r in b)], cwd=out_dir)
            for b in batches
        ],
        jobs=jobs,
    )
    for run in outputs:
        if not run.ok:
            raise PromtoolError(run.command, run.returncode, run.stdout, run.stderr)
    record.add(rules.key for rules in todo)
    return len(todo), "\n".join(run.output for run in outputs)


def _shape_keys(
    pending: Sequence[_Seen], by_name: dict[str, Service], version: str, jobs: int | None
) -> dict[tuple[str, str], str | None]:
    """The shape of each pending SLO (None: a shape of its own), found in the workers."""
    pairs = [(by_name[s.service], s.slo) for s in pending]
    keys = _flatten(map_chunks(partial(_shapes, version=version), pairs, jobs=jobs))
    return dict(zip([(s.service, s.slo) for s in pending], keys, strict=True))


def _shapes(pairs: Sequence[tuple[Service, str]], *, version: str) -> list[str | None]:
    keys: list[str | None] = []
    for service, name in pairs:
        slo = service.slo(name)
        unit = slo_unit(service, slo)
        assert unit is not None
        keys.append(shape_of(service, slo, unit, version).key)
    return keys


def _run_shapes(
    pending: Sequence[_Seen],
    shapes: dict[tuple[str, str], str | None],
    by_name: dict[str, Service],
    record: TestRecord,
    *,
    jobs: int | None,
    progress: Progress | None,
) -> dict[tuple[str, str], SLOResult]:
    """One promtool run per shape not already recorded; its verdict for every member."""
    groups: dict[str, list[_Seen]] = {}
    for seen in pending:
        shape = shapes[(seen.service, seen.slo)]
        groups.setdefault(shape or f"own:{seen.key}", []).append(seen)
    outcomes: dict[tuple[str, str], SLOResult] = {}
    to_run = []
    for shape, members in groups.items():
        if record.passed(shape):  # a new member of a shape that passed before
            outcomes.update(_verdicts(members, None))
            record.add(m.key for m in members if m.key)
        else:
            to_run.append((shape, members))
    tasks = [partial(_run_unit, by_name[m[0].service], m[0].slo) for _, m in to_run]
    labels = [_label(members) for _, members in to_run]
    runs = _in_parallel(tasks, jobs=jobs, progress=progress, labels=labels)
    for (shape, members), run in zip(to_run, runs, strict=True):
        outcomes.update(_verdicts(members, run))
        if run.ok:
            record.add([shape, *(m.key for m in members if m.key)])
    return outcomes


def _label(members: Sequence[_Seen]) -> str:
    first = f"{members[0].service}/{members[0].slo}"
    return f"{first} (+{len(members) - 1} of the same shape)" if len(members) > 1 else first


def _verdicts(members: Sequence[_Seen], run: ToolRun | None) -> dict[tuple[str, str], SLOResult]:
    """Each member's result from the run of the first (None: the shape passed before)."""
    first = f"{members[0].service}/{members[0].slo}"
    verdicts = {}
    for index, m in enumerate(members):
        how = "ran" if index == 0 and run is not None else "shape"
        if run is None or run.ok:
            result = SLOResult(m.service, m.slo, "passed", "", m.files, how)
        else:
            detail = run.output if index == 0 else f"same rules and tests as {first} up to names"
            result = SLOResult(m.service, m.slo, "failed", detail, m.files, how)
        verdicts[(m.service, m.slo)] = result
    return verdicts


def _run_unit(service: Service, slo_name: str) -> ToolRun:
    unit = slo_unit(service, service.slo(slo_name))
    assert unit is not None
    with tempfile.TemporaryDirectory(prefix="perfdash-test-") as folder:
        files = write_runnable(unit, Path(folder))
        return promtool.test_rules(files, cwd=Path(folder))


def _in_parallel(
    tasks: Sequence[Callable[[], ToolRun]],
    *,
    jobs: int | None,
    progress: Progress | None = None,
    labels: Sequence[str] = (),
) -> list[ToolRun]:
    """Run ``tasks`` (each runs promtool) ``jobs`` at a time; results in task order. On
    any interruption every running promtool is killed before this returns."""
    if not tasks:
        return []
    results: list[ToolRun | None] = [None] * len(tasks)
    pool = ThreadPoolExecutor(max_workers=jobs or default_jobs())
    try:
        futures = {pool.submit(task): index for index, task in enumerate(tasks)}
        for done, future in enumerate(as_completed(futures), start=1):
            index = futures[future]
            results[index] = future.result()
            if progress is not None:
                progress(done, len(tasks), labels[index] if labels else "")
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        stop_children()
        raise
    finally:
        pool.shutdown(wait=True)
    return [r for r in results if r is not None]
