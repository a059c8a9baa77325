"""Read the summaries the real tools printed next to their fixtures (``*.stdout.txt``), so
tests compare what perfdash stores with what the tool itself said. Each value comes with
the precision the tool printed it at."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.baseline.conftest import FIXTURES

_TO_MS = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


@dataclass(frozen=True)
class Printed:
    value: float
    precision: float  # one unit of the last printed digit (k6 truncates, others round)


def _printed(text: str, scale: float = 1.0) -> Printed:
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    return Printed(float(text) * scale, 10**-decimals * scale)


def k6_summary(name: str = "run.stdout.txt") -> dict[str, Printed]:
    """k6's end-of-test summary: http_req_duration stats (ms), requests, rate, error rate."""
    text = (FIXTURES / "k6" / name).read_text()
    trend = re.search(r"^\s*http_req_duration\.+: (.*)$", text, re.M)
    assert trend, "no http_req_duration line in the k6 summary"
    found: dict[str, Printed] = {}
    names = {"avg": "mean", "min": "min", "med": "p50", "max": "max"}
    for key, number, unit in re.findall(r"([a-z()0-9.]+)=([0-9.]+)(ns|µs|us|ms|s|m|h)", trend[1]):
        metric = names.get(key) or "p" + key.removeprefix("p(").removesuffix(")")
        found[metric] = _printed(number, _TO_MS[unit])
    reqs = re.search(r"^\s*http_reqs\.+: (\d+)\s+([0-9.]+)/s", text, re.M)
    failed = re.search(r"^\s*http_req_failed\.+: ([0-9.]+)%\s+(\d+) out of (\d+)", text, re.M)
    assert reqs and failed
    found["requests"] = Printed(float(reqs[1]), 0)
    found["rps"] = _printed(reqs[2])
    found["failures"] = Printed(float(failed[2]), 0)
    return found


def locust_summary() -> dict[str, Printed]:
    """Locust's printed Aggregated rows: counts, avg/min/max/median, req/s, percentiles."""
    text = (FIXTURES / "locust" / "locust.stderr.txt").read_text()
    rows = re.findall(r"^\s+Aggregated\s+(.*)$", text, re.M)
    stats, percentiles = rows[0], rows[1]
    match = re.match(
        r"(\d+)\s+(\d+)\([0-9.]+%\)\s+\|\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\|\s+([0-9.]+)", stats
    )
    assert match, stats
    found = {
        "requests": Printed(float(match[1]), 0),
        "failures": Printed(float(match[2]), 0),
        "mean": _printed(match[3]),
        "min": _printed(match[4]),
        "max": _printed(match[5]),
        "rps": _printed(match[7]),
    }
    columns = ("p50", "p66", "p75", "p80", "p90", "p95", "p98", "p99", "p99.9", "p99.99", "p100")
    for metric, number in zip(columns, percentiles.split(), strict=False):
        found[metric] = Printed(float(number), 0)  # bucket values, printed whole
    return found


def jmeter_summary(name: str) -> dict[str, Printed]:
    """JMeter's ``summary =`` line: count, rate, Avg/Min/Max (whole ms) and errors."""
    text = (FIXTURES / "jmeter" / name).read_text()
    match = re.search(
        r"^summary =\s+(\d+) in\s+[0-9.]+s =\s+([0-9.]+)/s Avg:\s+(\d+) Min:\s+(\d+) "
        r"Max:\s+(\d+) Err:\s+(\d+)",
        text,
        re.M,
    )
    assert match, text
    return {
        "requests": Printed(float(match[1]), 0),
        "rps": _printed(match[2]),
        "mean": Printed(float(match[3]) + 0.5, 0.5),  # JMeter truncates it to whole ms
        "min": Printed(float(match[4]), 0),
        "max": Printed(float(match[5]), 0),
        "failures": Printed(float(match[6]), 0),
    }


def hyperfine_summary() -> list[dict[str, Printed]]:
    """Per benchmarked command, in seconds: mean, stddev, min, max, user, system."""
    text = (FIXTURES / "hyperfine" / "hyperfine.stdout.txt").read_text()
    found = []
    time_line = (
        r"Time \(mean ± σ\):\s+([0-9.]+) (ms|s) ±\s+([0-9.]+) (ms|s)\s+"
        r"\[User: ([0-9.]+) (ms|s), System: ([0-9.]+) (ms|s)\]"
    )
    range_line = r"Range \(min … max\):\s+([0-9.]+) (ms|s) …\s+([0-9.]+) (ms|s)"
    for time, span in zip(re.findall(time_line, text), re.findall(range_line, text), strict=True):
        to_s = {"ms": 1e-3, "s": 1.0}
        found.append(
            {
                "mean": _printed(time[0], to_s[time[1]]),
                "stddev": _printed(time[2], to_s[time[3]]),
                "user": _printed(time[4], to_s[time[5]]),
                "system": _printed(time[6], to_s[time[7]]),
                "min": _printed(span[0], to_s[span[1]]),
                "max": _printed(span[2], to_s[span[3]]),
            }
        )
    return found


def pytest_benchmark_summary() -> dict[str, dict[str, Printed]]:
    """pytest-benchmark's table (microseconds, printed with 4 decimals) in seconds."""
    text = (FIXTURES / "pytest-benchmark" / "pytest-benchmark.stdout.txt").read_text()
    assert "Name (time in us)" in text
    found = {}
    for line in text.splitlines():
        if not line.startswith("test_"):
            continue
        cells = re.sub(r"\([^)]*\)", "", line).split()
        name, numbers = cells[0], [c.replace(",", "") for c in cells[1:]]
        columns = ("min", "max", "mean", "stddev", "median")
        found[name] = {c: _printed(n, 1e-6) for c, n in zip(columns, numbers, strict=False)}
        found[name]["rounds"] = Printed(float(numbers[-2]), 0)
    return found


def wrk_report() -> str:
    return (FIXTURES / "wrk" / "wrk.txt").read_text()


def fixture(*parts: str) -> Path:
    return FIXTURES.joinpath(*parts)
