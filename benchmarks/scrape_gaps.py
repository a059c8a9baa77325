"""Scrape-gap figures: each long window of perfdash's rules against Prometheus' own
``rate()`` ratio over the same window, and the burn-rate alerts firing, for the gaps of
issue 15 (``testing.scrape_gaps``: 6h at 10,000 requests a minute, then 10m, 40m or 3h
without a sample in which every request fails, then 10 minutes of normal traffic), on one
SLO of each kind of the example fleet, through ``promtool test rules``.

promtool prints a value only when a check fails: every probe here expects an impossible
sample, and the figure is what promtool reports it got. Deterministic (no timing).

    python -m benchmarks.scrape_gaps
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from perfdash import conventions
from perfdash.build import build_artifacts
from perfdash.model.fleet import SLO, Service
from perfdash.model.windows import is_derived, recorded_windows
from perfdash.prometheus import promql, promtool
from perfdash.prometheus.rule_tests import input_series
from perfdash.spec import load_fleet
from testing.scrape_gaps import (
    GAP_MINUTES,
    REPRESENTATIVE_SLOS,
    expected_firing,
    gap_phases,
    raw_ratio_expr,
    scraped_samples,
)

REPO = Path(__file__).resolve().parent.parent
GOT = re.compile(r"got: (.*)$", re.MULTILINE)
IMPOSSIBLE = {
    "labels": '{probe="x"}',
    "value": -1,
}  # no probe answers this: promtool shows what it got
HEADER = (
    "| SLO | gap | minute | window | raw rate() ratio | perfdash | relative error "
    "| firing (long/short) | raw ratios call for |"
)


def probes(service: Service, slo: SLO) -> dict[str, str]:
    own = conventions.slo_selector(service.name, slo.name)
    found = {}
    for window in recorded_windows(slo):
        if not is_derived(window):
            continue
        tiled = f"{service.series(conventions.error_ratio_name(window))}{own}"
        raw = raw_ratio_expr(service, slo, window)
        found[f"{window} tiled"] = f"max({tiled})"
        found[f"{window} raw"] = f"max({raw})"
        found[f"{window} error"] = f"max(abs({tiled} / {promql.on_clause(slo)} ({raw}) - 1))"
    alerts = own[:-1] + ', alertname="ErrorBudgetBurn", alertstate="firing"}'
    found["firing"] = f"max by (long, short) (ALERTS{alerts})"
    return found


def measure(out: Path, service: Service, slo: SLO, gap: int) -> dict[str, Any]:
    phases = gap_phases(gap)
    samples = scraped_samples(phases)
    at = samples[-1].minute + 2  # as the test: tiles and the :budget group hold the last sample
    asked = probes(service, slo)
    tests = [
        {
            "name": name,
            "interval": "1m",
            "input_series": input_series(service, slo, phases),
            "promql_expr_test": [
                {"expr": expr, "eval_time": f"{at}m", "exp_samples": [IMPOSSIBLE]}
            ],
        }
        for name, expr in asked.items()
    ]  # fmt: skip
    test_file = out / f"gaps-{service.name}-{slo.name}-{gap}.yaml"
    document = {
        "rule_files": [conventions.rule_file_path(service.name)],
        "evaluation_interval": "1m",
        "tests": tests,
    }
    test_file.write_text(yaml.safe_dump(document, sort_keys=False, width=1000), encoding="utf-8")
    run = promtool.test_rules([Path(test_file.name)], cwd=out)
    got = GOT.findall(run.output)
    if len(got) != len(asked):
        raise SystemExit(f"promtool answered {len(got)} of {len(asked)} probes:\n{run.output}")
    return {
        "at": at,
        **dict(zip(asked, got, strict=True)),
        "expected": expected_firing(slo, samples, at),
    }


def _value(text: str) -> float:
    return float(text.rsplit(" ", 1)[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scrape_gaps", description=__doc__)
    parser.parse_args(argv)
    fleet = load_fleet([REPO / "slos"], root=REPO)
    with tempfile.TemporaryDirectory(prefix="perfdash-gaps-") as folder:
        out = Path(folder)
        for path, text in build_artifacts(fleet).items():
            (out / path).parent.mkdir(parents=True, exist_ok=True)
            (out / path).write_text(text, encoding="utf-8")
        print(HEADER)
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for service_name, slo_name in REPRESENTATIVE_SLOS:
            service = fleet.service(service_name)
            slo = service.slo(slo_name)
            for gap in GAP_MINUTES:
                got = measure(out, service, slo, gap)
                pairs = re.findall(r'long="(\w+)", short="(\w+)"', got["firing"])
                firing = ", ".join(f"{a}/{b}" for a, b in sorted(pairs)) or "none"
                wanted = ", ".join(f"{a}/{b}" for a, b in sorted(got["expected"])) or "none"
                for window in (w for w in recorded_windows(slo) if is_derived(w)):
                    print(
                        f"| {service.name}/{slo.name} | {gap}m | {got['at']} | {window} "
                        f"| {_value(got[f'{window} raw']):.6f} | {_value(got[f'{window} tiled']):.6f} "
                        f"| {_value(got[f'{window} error']):.1e} | {firing} | {wanted} |"
                    )


if __name__ == "__main__":
    main()
