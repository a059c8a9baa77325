"""Push a verdict to a Prometheus Pushgateway, so Prometheus can alert on regressions.

Series (job ``perfdash_baseline``, grouped by benchmark):
``perfdash_baseline_change_ratio{benchmark, metric}`` (candidate / baseline - 1, every
compared metric) and ``perfdash_baseline_regression{benchmark, metric}`` (gates only: 1
when the gate regressed, what ``--fail-on-regression`` fails on).
"""

from __future__ import annotations

from urllib.error import URLError

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

from perfdash.baseline.compare import Report
from perfdash.errors import PushError, redact

JOB = "perfdash_baseline"


def verdict_registry(report: Report) -> CollectorRegistry:
    """The report as Prometheus gauges (pure: nothing is sent)."""
    registry = CollectorRegistry()
    change = Gauge(
        "perfdash_baseline_change_ratio",
        "Candidate vs baseline change of a benchmark metric (0.2 = 20% higher).",
        ["benchmark", "metric"],
        registry=registry,
    )
    regression = Gauge(
        "perfdash_baseline_regression",
        "1 when perfdash's verdict for the gate metric is a regression, else 0.",
        ["benchmark", "metric"],
        registry=registry,
    )
    for verdict in report.verdicts:
        test = verdict.test
        ratio = test.candidate / test.baseline - 1 if test.baseline else float("nan")
        change.labels(report.benchmark, test.metric).set(ratio)
        if verdict.gate:
            regression.labels(report.benchmark, test.metric).set(
                1.0 if verdict.verdict == "regression" else 0.0
            )
    return registry


def push_verdict(url: str, report: Report, *, timeout: float = 10.0) -> None:
    """PUT the verdict's series to the Pushgateway at ``url`` (replacing the benchmark's).

    Credentials in ``url`` go as basic auth and are never printed; a malformed URL is a
    ``ConfigError`` that does not quote it (``perfdash.deploy.settings.parse_url``)."""
    from perfdash.deploy.metrics import pushgateway_handler
    from perfdash.deploy.settings import parse_url

    pushgateway = parse_url(url, "--pushgateway")
    assert pushgateway is not None, "an empty --pushgateway is never pushed to"
    try:
        push_to_gateway(
            pushgateway.url,
            job=JOB,
            registry=verdict_registry(report),
            grouping_key={"benchmark": report.benchmark},
            timeout=timeout,
            handler=pushgateway_handler(pushgateway),
        )
    except (OSError, URLError, ValueError) as exc:
        raise PushError(
            f"cannot push the verdict to {pushgateway.url}: {redact(str(exc))}"
        ) from exc
