"""Which labels a raw query's result can carry, and so whether grouping by one works."""

from __future__ import annotations

import pytest

from perfdash.spec.raw_queries import raw_query_problem

LOST = (
    "grouping label 'queue' cannot be in this query's result: an aggregation drops it; "
    "keep it with by (queue), e.g. sum by (queue) (rate(...))"
)
W = "{{ window }}"


@pytest.mark.parametrize(
    "query",
    [
        f"rate(jobs_failed_total[{W}])",
        f"sum by (queue) (rate(jobs_failed_total[{W}]))",
        f"sum(rate(jobs_failed_total[{W}])) by (queue, job)",
        f"sum without (instance) (rate(jobs_failed_total[{W}]))",
        f"sum by (queue) (rate(a[{W}])) or vector(0)",
        f"sum by (queue) (rate(a[{W}])) * 2",
        f"sum by (queue) (rate(a[{W}])) / on (queue) sum by (queue) (rate(b[{W}]))",
        f"sum by (job) (rate(a[{W}])) * on (job) group_left (queue) queue_info",
        f"label_replace(sum(rate(a[{W}])), 'queue', 'default', '', '')",
        f"count_values('queue', sum(rate(a[{W}])))",
        f"topk(5, rate(a[{W}]))",
        f"histogram_quantile(0.9, sum by (le, queue) (rate(a_bucket[{W}])))",
        f"(sum by (queue) (rate(a[{W}])))",
        f"-sum by (queue) (rate(a[{W}]))",
        f"max_over_time(rate(a[{W}])[1h:])",
    ],
)
def test_a_query_that_can_keep_the_label_is_accepted(query: str) -> None:
    assert raw_query_problem(query, ("queue",)) is None


@pytest.mark.parametrize(
    "query",
    [
        f"sum(rate(jobs_failed_total[{W}]))",
        f"sum without (queue) (rate(a[{W}]))",
        f"sum(rate(a[{W}])) or vector(0)",
        f"sum by (job) (rate(a[{W}])) / on (job) sum by (job) (rate(b[{W}]))",
        f"rate(a[{W}]) / ignoring (queue) rate(b[{W}])",
        f"topk(5, sum(rate(a[{W}])))",
        f"vector(1) * sum(rate(a[{W}]))",
        f"histogram_quantile(0.9, sum by (le) (rate(a_bucket[{W}])))",
    ],
)
def test_a_query_that_drops_the_label_is_refused(query: str) -> None:
    assert raw_query_problem(query, ("queue",)) == LOST


def test_without_grouping_any_aggregation_is_fine() -> None:
    assert raw_query_problem(f"sum(rate(a[{W}]))", ()) is None


def test_every_grouping_label_is_checked() -> None:
    assert raw_query_problem(f"sum by (queue) (rate(a[{W}]))", ("queue", "route")) == (
        LOST.replace("queue", "route")
    )
