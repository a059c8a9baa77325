"""Performance baselines: result files -> samples -> PostgreSQL -> per-run summaries -> verdict.

    formats/     one parser per tool (k6, k6-csv, k6-summary, locust, jmeter,
                 pytest-benchmark, hyperfine, gobench): detect() and parse()
    records      what parsers yield: Sample, Value, Meta
    summaries    per-series aggregates -> named per-run metrics
    metrics      direction, scale and default threshold of each metric
    stats        the run-set t-test, the error-rate count test, Student t, Benjamini-Hochberg
    power        what a comparison can detect (the minimum detectable change)
    verdict      per-metric verdicts (regression, improvement, no change, ...), gates
    compare      run sets -> report; report renders it; push sends it to a Pushgateway
    timescale    TimescaleDB modes and their SQL (pure)
    schema       migrations and the storage mode (init)
    store        runs in, summaries out (psycopg 3); workflow ties it together
    local        the local store: a PostgreSQL of perfdash's own when no DSN is given

This package imports no database client: ``perfdash.baseline.store`` does, on demand.
"""

from perfdash.baseline.compare import Report, RunSet, compare_runs
from perfdash.baseline.records import Meta, Record, Sample, Value
from perfdash.baseline.summaries import RunSummary
from perfdash.baseline.verdict import MetricVerdict

__all__ = [
    "Meta",
    "MetricVerdict",
    "Record",
    "Report",
    "RunSet",
    "RunSummary",
    "Sample",
    "Value",
    "compare_runs",
]
