"""Fill a Prometheus data folder with a scenario: raw traffic, recorded rules, alerts.

1. The scenario's synthetic series (``perfdash.preview.scenario``) go in with
   ``promtool tsdb create-blocks-from openmetrics``.
2. Recording rules are evaluated by Prometheus itself, level by level (a rule reading
   another rule's series comes after it): ``query_range`` of the rule's expression at
   its group's interval, against a Prometheus serving what is backfilled so far, written
   back as the rule manager would record it (``promtool tsdb create-blocks-from rules``
   does the same, but in 2h blocks: a month of history made thousands of overlapping
   blocks, and minutes of compaction). Each rule is evaluated only over the span its
   readers need (a 30d ratio needs 30 days of 5m rates; a burn-rate panel the hours on
   screen).
3. Alerting rules: promtool does not backfill them. Their expressions are evaluated by
   Prometheus over the span on screen (``query_range`` at the group's interval) and the
   rule manager's state machine is replayed on the answer: an alert fires once its
   expression has held at every evaluation for its ``for:`` (``ALERTS`` with
   ``alertstate="firing"``, or ``"pending"`` before that), then backfilled as well.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from perfdash import conventions
from perfdash.durations import Duration
from perfdash.errors import OutputError, PromtoolError
from perfdash.model.fleet import quote_label_value
from perfdash.preview.prometheus_api import PrometheusApi, Series
from perfdash.preview.prometheus_server import running_prometheus
from perfdash.preview.scenario import openmetrics, scenario_traffic
from perfdash.prometheus import promtool

DEFAULT_INTERVAL = 60  # seconds: Prometheus' default evaluation_interval (perfdash's too)
LOOKBACK = 300  # Prometheus' default lookback delta: an instant selector reads 5m back
SCREEN_MARGIN = 3600  # rules are recorded from an hour before the screen's left edge
MAX_POINTS = 10_000  # steps per range query (Prometheus refuses more than 11,000)


@dataclass
class _Rule:
    group: str
    interval: int
    body: dict[str, Any]
    reads: dict[str, int] = field(default_factory=dict)  # recorded name -> longest range
    start: int = 0

    @property
    def name(self) -> str:
        return str(self.body.get("record") or self.body.get("alert"))


@dataclass(frozen=True)
class Backfilled:
    """A data folder holding the scenario, and what went into it."""

    data_dir: Path
    rule_files: tuple[Path, ...]
    start: int  # first raw sample (unix seconds)
    end: int  # the scenario's "now"
    slos: int  # SLOs whose traffic is in


def backfill_scenario(
    artifacts: Mapping[str, str], scenario: str, *, end: int, screen_seconds: int, workdir: Path
) -> Backfilled:
    """Write the scenario into ``workdir/data`` (and the rule files beside it)."""
    rules_dir = workdir / "rules"
    rules_dir.mkdir(parents=True, exist_ok=True)
    rule_files = []
    texts = {}
    for path, text in sorted(artifacts.items()):
        if path.startswith(conventions.RULES_DIR + "/"):
            target = rules_dir / Path(path).name
            target.write_text(text, encoding="utf-8")
            rule_files.append(target)
            texts[path] = text
    recording, alerting = _parse_rules(texts)
    _schedule(recording, alerting, screen_start=end - screen_seconds)
    raw_start = _raw_start(recording, alerting, end - screen_seconds)
    tests = {p: t for p, t in artifacts.items() if p.startswith(conventions.TESTS_DIR + "/")}
    traffic = scenario_traffic(tests, scenario)
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    span = end - raw_start
    _create_blocks(
        workdir / "raw.om", openmetrics(traffic, end=end, start=raw_start), data_dir, span
    )
    for level, rules in enumerate(_levels(recording), start=1):
        with running_prometheus(data_dir) as url, PrometheusApi(url) as api:
            text = _recorded_series(api, rules, end=end)
        if text:
            _create_blocks(workdir / f"level{level}.om", text, data_dir, span)
    with running_prometheus(data_dir) as url, PrometheusApi(url) as api:
        alerts = _alert_series(api, alerting, end=end)
    if alerts:
        _create_blocks(workdir / "alerts.om", alerts, data_dir, span)
    return Backfilled(data_dir, tuple(rule_files), raw_start, end, len(traffic))


def _parse_rules(texts: Mapping[str, str]) -> tuple[list[_Rule], list[_Rule]]:
    recording: list[_Rule] = []
    alerting: list[_Rule] = []
    for path, text in texts.items():
        try:
            groups = yaml.safe_load(text)["groups"]
        except (yaml.YAMLError, KeyError, TypeError) as exc:
            raise OutputError(f"{path}: not a Prometheus rule file ({exc})") from exc
        for group in groups:
            interval = group.get("interval")
            seconds = Duration.parse(interval).seconds if interval else DEFAULT_INTERVAL
            for body in group["rules"]:
                rule = _Rule(group["name"], seconds, body)
                (recording if "record" in body else alerting).append(rule)
    recorded = {r.name for r in recording}
    for rule in (*recording, *alerting):
        rule.reads = {
            n: r for n, r in _selector_ranges(str(rule.body["expr"])).items() if n in recorded
        }
    return recording, alerting


def _selector_ranges(expr: str) -> dict[str, int]:
    """Metric names an expression selects, each with its longest range in seconds."""
    found: dict[str, int] = {}

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.MatrixSelector):
            name = node.vector_selector.name or ""
            found[name] = max(found.get(name, 0), int(node.range.total_seconds()))
        elif isinstance(node, promql_parser.VectorSelector):
            found.setdefault(node.name or "", 0)
        elif isinstance(node, promql_parser.SubqueryExpr):
            for name in _selector_ranges(str(node.expr)):
                span = node.range.total_seconds() if node.range is not None else 0
                found[name] = max(found.get(name, 0), int(span))

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def _schedule(recording: list[_Rule], alerting: list[_Rule], *, screen_start: int) -> None:
    """Each recording rule's first evaluation: early enough for every reader of it."""
    by_name: dict[str, list[_Rule]] = {}
    for rule in recording:
        rule.start = screen_start - SCREEN_MARGIN
        by_name.setdefault(rule.name, []).append(rule)
    for rule in alerting:
        rule.start = screen_start - SCREEN_MARGIN - _for_seconds(rule)
    # Readers before what they read: walk the levels from the top.
    pending = [*alerting, *reversed([r for level in _levels(recording) for r in level])]
    for reader in pending:
        for name, span in reader.reads.items():
            for rule in by_name.get(name, ()):
                rule.start = min(rule.start, reader.start - span - LOOKBACK)


def _raw_start(recording: list[_Rule], alerting: list[_Rule], screen_start: int) -> int:
    starts = [screen_start - SCREEN_MARGIN]
    for rule in (*recording, *alerting):
        longest = max(_selector_ranges(str(rule.body["expr"])).values(), default=0)
        starts.append(rule.start - longest - LOOKBACK)
    return min(starts)


def _levels(recording: list[_Rule]) -> list[list[_Rule]]:
    """Recording rules by dependency level: level 1 reads raw series only."""
    by_name: dict[str, list[_Rule]] = {}
    for rule in recording:
        by_name.setdefault(rule.name, []).append(rule)
    level: dict[str, int] = {}

    def level_of(name: str, path: tuple[str, ...]) -> int:
        if name in level:
            return level[name]
        if name in path:
            raise OutputError(f"recording rules read each other in a cycle: {' -> '.join(path)}")
        deepest = 0
        for rule in by_name[name]:
            for read in rule.reads:
                if read != name:
                    deepest = max(deepest, level_of(read, (*path, name)))
        level[name] = deepest + 1
        return level[name]

    out: list[list[_Rule]] = []
    for rule in recording:
        index = level_of(rule.name, ()) - 1
        while len(out) <= index:
            out.append([])
        out[index].append(rule)
    return out


def _recorded_series(api: PrometheusApi, rules: list[_Rule], *, end: int) -> str:
    """The rules' series as the rule manager records them: the expression's labels
    without ``__name__``, the rule's labels over them, the record name as the metric."""
    lines: dict[str, list[str]] = {}
    for rule in rules:
        labels = {k: str(v) for k, v in (rule.body.get("labels") or {}).items()}
        for series in _evaluate(api, rule, end=end):
            name = _series_name(rule.name, {**_without_name(series.labels), **labels})
            lines.setdefault(name, []).extend(
                f"{name} {_number(v)} {int(t)}" for t, v in series.points
            )
    return _openmetrics(lines)


def _evaluate(api: PrometheusApi, rule: _Rule, *, end: int) -> list[Series]:
    """The rule's expression at each of its evaluations from its start to ``end``, in
    queries of at most MAX_POINTS steps (Prometheus' limit is 11,000)."""
    start = rule.start - rule.start % rule.interval
    out: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
    while start <= end:
        stop = min(end, start + (MAX_POINTS - 1) * rule.interval)
        for series in api.query_range(
            str(rule.body["expr"]), start=start, end=stop, step=rule.interval
        ):
            out.setdefault(tuple(sorted(series.labels.items())), []).extend(series.points)
        start = stop + rule.interval
    return [Series(dict(key), tuple(points)) for key, points in out.items()]


def _create_blocks(source: Path, text: str, data_dir: Path, span: int) -> None:
    source.write_text(text, encoding="utf-8")
    hours = math.ceil(span / 3600) + 2
    done = promtool.run(
        [
            "tsdb", "create-blocks-from", "openmetrics", "--quiet",
            # One block for the whole span, not one per 2h: Prometheus starts at once.
            f"--max-block-duration={hours}h", str(source), str(data_dir),
        ]
    )  # fmt: skip
    if not done.ok:
        raise PromtoolError(done.command, done.returncode, done.stdout, done.stderr)
    source.unlink()


def _for_seconds(rule: _Rule) -> int:
    text = rule.body.get("for")
    return Duration.parse(str(text)).seconds if text else 0


def _alert_series(api: PrometheusApi, alerting: list[_Rule], *, end: int) -> str:
    """``ALERTS`` of every alerting rule over its span, as the rule manager writes them."""
    lines: dict[str, list[str]] = {}
    for rule in alerting:
        for series in _evaluate(api, rule, end=end):
            labels = _without_name(series.labels)
            labels.update({k: str(v) for k, v in (rule.body.get("labels") or {}).items()})
            labels["alertname"] = rule.name
            for at, state in alert_states(
                [t for t, _ in series.points], step=rule.interval, hold=_for_seconds(rule)
            ):
                name = _series_name("ALERTS", {**labels, "alertstate": state})
                lines.setdefault(name, []).append(f"{name} 1 {int(at)}")
    return _openmetrics(lines)


def _openmetrics(lines: Mapping[str, list[str]]) -> str:
    """OpenMetrics text of samples by series; empty when there are none."""
    if not lines:
        return ""
    families: dict[str, list[str]] = {}
    for name in sorted(lines):
        families.setdefault(name.split("{", 1)[0], []).extend(lines[name])
    out = []
    for family, samples in families.items():
        out.append(f"# TYPE {family} unknown")
        out.extend(samples)
    out.append("# EOF")
    return "\n".join(out) + "\n"


def _without_name(labels: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k != "__name__"}


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def alert_states(times: list[float], *, step: int, hold: int) -> list[tuple[float, str]]:
    """The rule manager's view of an alert at each evaluation where its expression held:
    pending from the first, firing once it has held ``hold`` seconds without a gap."""
    states = []
    active_since: float | None = None
    previous: float | None = None
    for at in times:
        if previous is None or at - previous > step:
            active_since = at
        previous = at
        assert active_since is not None
        states.append((at, "firing" if at - active_since >= hold else "pending"))
    return states


def _series_name(metric: str, labels: Mapping[str, str]) -> str:
    inner = ",".join(f"{k}={quote_label_value(v)}" for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"
