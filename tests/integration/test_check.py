"""``perfdash check`` against a real Prometheus scraping an instrumented service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from perfdash.commands.logs import configure_logging
from testing.scraping import scraped
from testing.service import Settings, SyntheticService
from testing.stack import Process
from tests.helpers import run_cli, write_declaration

pytestmark = pytest.mark.integration

HEADER = """\
apiVersion: perfdash/v1
kind: Service
metadata: {{name: {name}, team: payments, tier: 1, runbook: https://runbooks.example.com/x}}
spec:
  selector: {{job: {job}}}
"""

GOOD = (
    HEADER.format(name="checkout", job="checkout")
    + """\
  red:
    requests: http_requests_total
    errors: {code: "5.."}
    duration: http_request_duration_seconds
  slos:
    - name: availability
      objective: 99.9
      sli:
        events: {total: http_requests_total, bad: {code: "5.."}}
    - name: latency
      objective: 99
      sli:
        latency: {histogram: http_request_duration_seconds, threshold: 0.3}
    - name: raw
      objective: 99
      sli:
        raw:
          bad: sum(rate(http_requests_total{job="checkout", code=~"5.."}[{{ window }}]))
          total: sum(rate(http_requests_total{job="checkout"}[{{ window }}]))
"""
)

# Each SLO holds one mistake people make; the line comments are for the reader.
WRONG = (
    HEADER.format(name="orders", job="checkout")
    + """\
  slos:
    - name: not-a-histogram
      objective: 99
      sli:
        latency: {histogram: http_requests_total, threshold: 0.3}
    - name: between-buckets
      objective: 99
      sli:
        latency: {histogram: http_request_duration_seconds, threshold: 0.25}
    - name: no-total-suffix
      objective: 99
      sli:
        events: {total: http_requests, bad: {code: "5.."}}
    - name: total-twice
      objective: 99
      sli:
        events: {total: http_requests_total_total, bad: {code: "5.."}}
    - name: no-such-label
      objective: 99
      grouping: [route]
      sli:
        events: {total: http_requests_total, bad: {status: "5.."}}
    - name: raw-nothing
      objective: 99
      sli:
        raw:
          bad: sum(rate(http_requests_total{job="nope"}[{{ window }}]))
          total: sum(rate(http_requests_total{job="nope"}[{{ window }}]))
---
"""
    + HEADER.format(name="typo", job="chekout")
    + """\
  slos:
    - name: availability
      objective: 99
      sli:
        events: {total: http_requests_total, bad: {code: "5.."}}
"""
)


@pytest.fixture(scope="module")
def prometheus(prometheus_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    service = SyntheticService(
        "checkout", requests_per_tick=10, settings=Settings(), history_seconds=0
    )
    with scraped(tmp_path_factory.mktemp("check"), prometheus_bin, [service]) as process:
        yield process


def test_declarations_that_match_the_live_metrics_pass(prometheus: Process, tmp_path: Path) -> None:
    write_declaration(tmp_path / "slos", "checkout.yaml", GOOD)
    result = run_cli(["check", "--prometheus-url", prometheus.url], cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"ok: 3 SLOs of 1 services measure live series on {prometheus.url}\n"
    # No request failed yet: the bad matchers match no series, which is only a warning.
    assert result.stderr == ""


def test_every_mistake_is_located_and_explained(prometheus: Process, tmp_path: Path) -> None:
    write_declaration(tmp_path / "slos", "wrong.yaml", WRONG)
    result = run_cli(["check", "--prometheus-url", prometheus.url], cwd=tmp_path)
    assert result.exit_code == 1
    f = "slos/wrong.yaml"
    assert result.stderr.splitlines() == [
        f"warning: {f}:32:16: spec.slos[5].sli.raw.bad: returns no data over 5m: fine if no "
        "bad event happened lately, else check the query",
        f"Error: {f}:10:30: spec.slos[0].sli.latency.histogram: http_requests_total has "
        "series but no http_requests_total_bucket: it is not a classic histogram (a native "
        "histogram or a summary cannot give a latency SLI)",
        f"{f}:14:72: spec.slos[1].sli.latency.threshold: 0.25 is not a bucket boundary of "
        "http_request_duration_seconds: its le values are 0.05, 0.1, 0.3, 0.5, 1.0 (nearest: "
        "0.3); between boundaries the SLI measures nothing",
        f"{f}:18:25: spec.slos[2].sli.events.total: metric http_requests has no series in "
        "Prometheus: did you mean http_requests_total (counters end in _total)?",
        f"{f}:22:25: spec.slos[3].sli.events.total: metric http_requests_total_total has no "
        "series in Prometheus: _total is given twice; did you mean http_requests_total?",
        f"{f}:25:18: spec.slos[4].grouping[0]: label route is not on http_requests_total "
        "(its labels: code, instance, job)",
        f"{f}:27:60: spec.slos[4].sli.events.bad.status: label status is not on "
        "http_requests_total (its labels: code, instance, job): no request would ever count "
        "as bad",
        f"{f}:33:18: spec.slos[5].sli.raw.total: returns no data over 5m (evaluated as "
        'sum(rate(http_requests_total{job="nope"}[5m]))): the SLO would measure nothing',
        f"{f}:39:19: spec.selector.job: no series of http_requests_total matches "
        '{job="chekout"}: job is one of [checkout]',
    ]


def test_an_unreachable_prometheus_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    write_declaration(tmp_path / "slos", "checkout.yaml", GOOD)
    # An earlier command's -v in the same process (as in the test suite) must not leak
    # its request log into this one.
    configure_logging(1)
    result = run_cli(
        ["check", "--prometheus-url", "http://127.0.0.1:9", "--timeout", "1"], cwd=tmp_path
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: GET http://127.0.0.1:9/api/v1/")
