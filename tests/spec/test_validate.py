"""Validation: every mistake in a declaration is reported at its file:line:column, word for word.

Declarations are written to real files and loaded with ``load_fleet``. Most cases start
from ``SERVICE_HEAD`` (lines 1 to 10, ending with ``slos:``) followed by SLOs indented
four spaces, so the first SLO's ``- name`` is on line 11 and its ``objective`` value on
line 12, column 18.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from perfdash.errors import Problem, SpecError
from perfdash.model.fleet import Fleet
from perfdash.spec import load_fleet
from tests.conftest import require_binary
from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration

FILE = "slos/checkout.yaml"
SERVICE_HEAD = MINIMAL_SERVICE.split("    - name: availability\n")[0]
EVENTS_SLI = 'sli: {events: {total: http_requests_total, bad: {code: "5.."}}}'
LABEL_NAME = "is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)"
BAD_DURATION = (
    "must be a duration such as 5m, 1h30m or 28d (units w, d, h, m, s, largest first), got {!r}"
)


def with_slos(slos: str) -> str:
    """The service head followed by ``slos`` (a YAML list, written flush left)."""
    return SERVICE_HEAD + textwrap.indent(textwrap.dedent(slos), "    ")


def one_slo(*lines: str, objective: str = "99.9", sli: str = EVENTS_SLI) -> str:
    """One SLO: name (line 11), objective (12), sli (13), then ``lines`` from line 14."""
    body = [f"- name: availability\n  objective: {objective}\n  {sli}\n"]
    body.extend(f"  {line}\n" for line in lines)
    return with_slos("".join(body))


def load(tmp_path: Path) -> Fleet:
    return load_fleet([tmp_path / "slos"], root=tmp_path)


def problems_of(tmp_path: Path, text: str) -> list[Problem]:
    write_declaration(tmp_path / "slos", "checkout.yaml", text)
    with pytest.raises(SpecError) as caught:
        load(tmp_path)
    return list(caught.value.problems)


def loads(tmp_path: Path, text: str) -> Fleet:
    write_declaration(tmp_path / "slos", "checkout.yaml", text)
    return load(tmp_path)


def test_the_minimal_service_is_valid(tmp_path: Path) -> None:
    assert [s.name for s in loads(tmp_path, MINIMAL_SERVICE).services] == ["checkout"]
    assert one_slo() == MINIMAL_SERVICE.replace(
        '      sli:\n        events: {total: http_requests_total, bad: {code: "5.."}}\n',
        f"      {EVENTS_SLI}\n",
    )


# -- the document's frame -----------------------------------------------------------


def test_another_api_version_is_refused(tmp_path: Path) -> None:
    text = MINIMAL_SERVICE.replace("perfdash/v1", "perfdash/v2")
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 1, 13, "apiVersion", "must be 'perfdash/v1', got 'perfdash/v2'")
    ]


def test_an_unknown_kind_gets_only_that_complaint(tmp_path: Path) -> None:
    text = MINIMAL_SERVICE.replace("kind: Service", "kind: Dashboard")
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 2, 7, "kind", "must be one of Service, Team, got 'Dashboard'")
    ]


def test_an_unknown_field_suggests_the_closest_known_one(tmp_path: Path) -> None:
    text = MINIMAL_SERVICE.replace("  tier: 1\n", "  tier: 1\n  teir: 2\n")
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 7, 3, "metadata.teir", "unknown field 'teir': did you mean 'tier'?")
    ]


def test_an_unknown_field_without_a_close_match_lists_the_allowed_ones(tmp_path: Path) -> None:
    text = MINIMAL_SERVICE.replace("  tier: 1\n", "  tier: 1\n  colour: blue\n")
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE,
            7,
            3,
            "metadata.colour",
            "unknown field 'colour' (allowed: description, labels, name, runbook, team, tier)",
        )
    ]


def test_a_missing_required_field_is_reported_at_its_parent(tmp_path: Path) -> None:
    text = MINIMAL_SERVICE.replace("  team: payments\n", "")
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 4, 3, "metadata", "missing required field 'team'")
    ]


def test_an_slo_without_an_sli_is_reported_at_the_slo(tmp_path: Path) -> None:
    text = with_slos("- name: availability\n  objective: 99.9\n")
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 11, 7, "spec.slos[0]", "missing required field 'sli'")
    ]


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        (
            "objective: 99.9",
            'objective: "high"',
            (12, 18, "spec.slos[0].objective"),
            "must be a number, got a string 'high'",
        ),
        (
            "tier: 1",
            'tier: "1"',
            (6, 9, "metadata.tier"),
            "must be an integer, got a string '1'",
        ),
        (
            "  runbook:",
            "  labels: {env: no}\n  runbook:",
            (7, 17, "metadata.labels.env"),
            "must be a string, got a boolean False "
            "(quote it: YAML reads yes/no/on/off as booleans and digits as numbers)",
        ),
        (
            "selector: {job: checkout}",
            "selector: {job: 8080}",
            (9, 19, "spec.selector.job"),
            "must be a string, got an integer 8080 "
            "(quote it: YAML reads yes/no/on/off as booleans and digits as numbers)",
        ),
        (
            "tier: 1",
            "tier: 5",
            (6, 9, "metadata.tier"),
            "must be at most 4, got 5",
        ),
    ],
    ids=["objective-text", "tier-quoted", "label-boolean", "selector-number", "tier-5"],
)
def test_a_value_of_the_wrong_type_says_what_was_expected_and_found(
    tmp_path: Path, old: str, new: str, where: tuple[int, int, str], message: str
) -> None:
    line, column, field = where
    assert problems_of(tmp_path, MINIMAL_SERVICE.replace(old, new)) == [
        Problem(FILE, line, column, field, message)
    ]


# -- names ----------------------------------------------------------------------------


def test_a_service_name_declared_twice_names_the_first_file_and_line(tmp_path: Path) -> None:
    write_declaration(tmp_path / "slos", "a-checkout.yaml", MINIMAL_SERVICE)
    write_declaration(tmp_path / "slos", "b-checkout.yaml", "# copy\n" + MINIMAL_SERVICE)
    with pytest.raises(SpecError) as caught:
        load(tmp_path)
    assert caught.value.problems == (
        Problem(
            "slos/b-checkout.yaml",
            5,
            9,
            "metadata.name",
            "duplicate service name 'checkout' (first declared at slos/a-checkout.yaml:4)",
        ),
    )


def test_an_slo_name_used_twice_in_a_service_is_an_error(tmp_path: Path) -> None:
    text = with_slos(
        f"""\
        - name: availability
          objective: 99.9
          {EVENTS_SLI}
        - name: availability
          objective: 99
          {EVENTS_SLI}
        """
    )
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE,
            14,
            13,
            "spec.slos[1].name",
            "duplicate SLO name 'availability' (first at spec.slos[0])",
        )
    ]


# -- objectives and windows -------------------------------------------------------------


@pytest.mark.parametrize("objective", ["0", "100", "100.5", "-1"])
def test_an_objective_outside_0_to_100_is_refused(tmp_path: Path, objective: str) -> None:
    assert problems_of(tmp_path, one_slo(objective=objective)) == [
        Problem(
            FILE,
            12,
            18,
            "spec.slos[0].objective",
            f"must be a percentage strictly between 0 and 100, got {objective}",
        )
    ]


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ('"30 days"', BAD_DURATION.format("30 days")),
        ("5x", BAD_DURATION.format("5x")),
        ("1h5d", BAD_DURATION.format("1h5d")),
        ("0m", "'0m' is not a positive duration"),
        ("12h", "SLO window must be at least 1d"),
    ],
    ids=["words", "unknown-unit", "wrong-order", "zero", "below-minimum"],
)
def test_a_bad_slo_window_is_reported_at_the_window(
    tmp_path: Path, window: str, message: str
) -> None:
    assert problems_of(tmp_path, one_slo(f"window: {window}")) == [
        Problem(FILE, 14, 15, "spec.slos[0].window", message)
    ]


def test_a_28_day_window_is_valid_and_prints_as_days(tmp_path: Path) -> None:
    fleet = loads(tmp_path, one_slo("window: 28d"))
    assert str(fleet.service("checkout").slo("availability").window) == "28d"


# -- labels and matchers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where", "name"),
    [
        (
            "  runbook:",
            "  labels: {env: prod, 1env: x}\n  runbook:",
            (7, 23, "metadata.labels.1env"),
            "1env",
        ),
        (
            "selector: {job: checkout}",
            "selector: {job: checkout, http-route: /x}",
            (9, 29, "spec.selector.http-route"),
            "http-route",
        ),
    ],
    ids=["metadata-labels", "selector"],
)
def test_an_invalid_label_name_is_reported_at_the_key(
    tmp_path: Path, old: str, new: str, where: tuple[int, int, str], name: str
) -> None:
    line, column, field = where
    assert problems_of(tmp_path, MINIMAL_SERVICE.replace(old, new)) == [
        Problem(FILE, line, column, field, f"{name!r} {LABEL_NAME}")
    ]


def test_an_invalid_grouping_label_is_reported_at_the_list_item(tmp_path: Path) -> None:
    assert problems_of(tmp_path, one_slo("grouping: [route, http-method]")) == [
        Problem(FILE, 14, 25, "spec.slos[0].grouping[1]", f"'http-method' {LABEL_NAME}")
    ]


def test_an_invalid_alert_label_name_is_reported_at_the_key(tmp_path: Path) -> None:
    assert problems_of(tmp_path, one_slo("alerting:", "  labels: {'on call': x}")) == [
        Problem(FILE, 15, 18, "spec.slos[0].alerting.labels.on call", f"'on call' {LABEL_NAME}")
    ]


@pytest.mark.parametrize(
    "label", ["service", "slo", "team", "severity", "priority", "long", "short", "le", "__tmp"]
)
def test_labels_perfdash_sets_cannot_be_declared(tmp_path: Path, label: str) -> None:
    text = MINIMAL_SERVICE.replace("  runbook:", f"  labels: {{env: prod, {label}: x}}\n  runbook:")
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE,
            7,
            23,
            f"metadata.labels.{label}",
            f"label {label!r} is set by perfdash and cannot be declared",
        )
    ]


def test_reserved_labels_are_refused_in_alerting_labels_at_both_levels(tmp_path: Path) -> None:
    text = one_slo("alerting:", "  labels: {severity: critical}").replace(
        "  slos:\n", "  alerting:\n    labels: {team: sre}\n  slos:\n"
    )
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE,
            11,
            14,
            "spec.alerting.labels.team",
            "label 'team' is set by perfdash and cannot be declared",
        ),
        Problem(
            FILE,
            17,
            18,
            "spec.slos[0].alerting.labels.severity",
            "label 'severity' is set by perfdash and cannot be declared",
        ),
    ]


def test_reserved_labels_cannot_be_grouped_by(tmp_path: Path) -> None:
    assert problems_of(tmp_path, one_slo("grouping: [route, slo]")) == [
        Problem(
            FILE,
            14,
            25,
            "spec.slos[0].grouping[1]",
            "'slo' is set by perfdash; group by another label",
        )
    ]


def test_double_underscore_labels_cannot_be_matched(tmp_path: Path) -> None:
    text = MINIMAL_SERVICE.replace("{job: checkout}", "{job: checkout, __name__: up}")
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 9, 29, "spec.selector.__name__", "label '__name__' is reserved")
    ]


@pytest.mark.parametrize("regex", ["5(..", "(?=5)..", "[5-"], ids=["unclosed", "lookahead", "set"])
def test_a_regex_the_prometheus_parser_refuses_is_reported_at_its_matcher(
    tmp_path: Path, regex: str
) -> None:
    sli = f"sli: {{events: {{total: http_requests_total, bad: {{code: '{regex}'}}}}}}"
    assert problems_of(tmp_path, one_slo(sli=sli)) == [
        Problem(
            FILE,
            13,
            62,
            "spec.slos[0].sli.events.bad.code",
            f"invalid regular expression {regex!r}: illegal regex for {regex}",
        )
    ]


def test_operator_prefixes_choose_the_matcher(tmp_path: Path) -> None:
    text = one_slo(
        sli="sli: {events: {total: t, bad: {code: '5..', path: '!~/health'},"
        " matchers: {route: '=~/api/.*', env: '!=dev'}}}"
    )
    sli = loads(tmp_path, text).service("checkout").slo("availability").sli
    assert [m.promql() for m in sli.bad] == ['code=~"5.."', 'path!~"/health"']
    assert [m.promql() for m in sli.matchers] == ['env!="dev"', 'route=~"/api/.*"']


# -- raw SLIs -----------------------------------------------------------------------------


def raw_sli(bad: str, total: str = "sum(rate(requests_total[{{ window }}]))") -> str:
    return f"sli: {{raw: {{bad: '{bad}', total: '{total}'}}}}"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            "sum(rate(errors_total[5m]))",
            "raw PromQL must use {{ window }} for its range, e.g. rate(x[{{ window }}])",
        ),
        (
            "sum(rate(errors_total[{{ window }}])) * {{ scale }}",
            "unknown placeholder {{ scale }}: only {{ window }} is replaced",
        ),
        (
            "sum(rate(errors_total[{{ window }}])",
            "PromQL does not parse: unclosed left parenthesis",
        ),
        (
            "errors_total[{{ window }}]",
            "PromQL must return an instant vector (events per second), not a range or string",
        ),
        (
            "(errors_total[{{window}}])",
            "PromQL must return an instant vector (events per second), not a range or string",
        ),
    ],
    ids=["no-window", "other-placeholder", "does-not-parse", "range-vector", "parenthesised-range"],
)
def test_a_bad_raw_query_is_reported_at_the_query(tmp_path: Path, bad: str, message: str) -> None:
    assert problems_of(tmp_path, one_slo(sli=raw_sli(bad))) == [
        Problem(FILE, 13, 24, "spec.slos[0].sli.raw.bad", message)
    ]


def test_a_raw_query_with_window_placeholders_is_valid(tmp_path: Path) -> None:
    text = one_slo(sli=raw_sli("sum(rate(errors_total[{{window}}])) or vector(0)"))
    sli = loads(tmp_path, text).service("checkout").slo("availability").sli
    assert sli.kind == "raw"


# -- latency SLIs ---------------------------------------------------------------------------


def latency_sli(threshold: str, matchers: str = "") -> str:
    return f"sli: {{latency: {{histogram: http_request_duration_seconds, threshold: {threshold}{matchers}}}}}"


@pytest.mark.parametrize(
    ("threshold", "message"),
    [
        ("0", "must be a positive number of seconds, got 0"),
        ("-0.3", "must be a positive number of seconds, got -0.3"),
        ("fast", "must be a number, got a string 'fast'"),
    ],
)
def test_a_latency_threshold_must_be_a_positive_number(
    tmp_path: Path, threshold: str, message: str
) -> None:
    assert problems_of(tmp_path, one_slo(sli=latency_sli(threshold))) == [
        Problem(FILE, 13, 76, "spec.slos[0].sli.latency.threshold", message)
    ]


def test_le_cannot_be_matched_in_a_latency_sli(tmp_path: Path) -> None:
    text = one_slo(sli=latency_sli("0.3", ", matchers: {route: /pay, le: '0.5'}"))
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE,
            13,
            109,
            "spec.slos[0].sli.latency.matchers.le",
            "le is set from threshold; remove it",
        )
    ]


def test_a_latency_threshold_keeps_its_exact_digits(tmp_path: Path) -> None:
    sli = loads(tmp_path, one_slo(sli=latency_sli("0.3"))).services[0].slos[0].sli
    assert sli.kind == "latency"
    assert str(sli.threshold) == "0.3"


# -- alerts ---------------------------------------------------------------------------------


def test_an_alert_that_can_never_fire_is_an_error_that_says_how_to_fix_it(tmp_path: Path) -> None:
    assert problems_of(tmp_path, one_slo(objective="90")) == [
        Problem(
            FILE,
            12,
            18,
            "spec.slos[0].objective",
            "the page alert over 1h/5m can never fire: burn factor 14.4 x error budget 0.1 = "
            "1.44 >= 1 (an error ratio cannot exceed 100%); disable it (alerting.page: false) "
            "or declare alerting.windows",
        )
    ]


def test_a_90_percent_slo_with_tickets_only_is_valid(tmp_path: Path) -> None:
    # Tickets fire at 3x and 1x the budget of 0.1: 0.3 and 0.1, both below 1.
    slo = loads(tmp_path, one_slo("alerting: {page: false}", objective="90")).services[0].slos[0]
    assert [w.severity for w in slo.alerting.enabled_windows()] == ["ticket", "ticket"]


@pytest.mark.parametrize("short", ["1h", "2h"], ids=["equal", "longer"])
def test_custom_windows_need_a_short_window_shorter_than_the_long_one(
    tmp_path: Path, short: str
) -> None:
    text = one_slo(
        "alerting:",
        "  windows:",
        f"    - {{severity: page, long: 1h, short: {short}, budget_percent: 2}}",
    )
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE,
            16,
            47,
            "spec.slos[0].alerting.windows[0].short",
            f"short window {short} must be shorter than the long window 1h",
        )
    ]


def test_a_short_window_under_a_minute_is_refused(tmp_path: Path) -> None:
    text = one_slo(
        "alerting:",
        "  windows:",
        "    - {severity: page, long: 1h, short: 30s, budget_percent: 2}",
    )
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE,
            16,
            47,
            "spec.slos[0].alerting.windows[0].short",
            "windows shorter than 1m cannot hold two scrapes",
        )
    ]


def test_an_alert_window_longer_than_the_slo_window_is_refused(tmp_path: Path) -> None:
    text = one_slo(
        "window: 1d",
        "alerting:",
        "  windows:",
        "    - {severity: page, long: 2d, short: 1h, budget_percent: 2}",
    )
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE,
            14,
            15,
            "spec.slos[0].window",
            "the page alert's long window 2d is longer than the SLO window 1d",
        )
    ]


def test_custom_windows_replace_the_default_policy(tmp_path: Path) -> None:
    text = one_slo(
        "alerting:",
        "  windows:",
        "    - {severity: page, long: 2h, short: 10m, budget_percent: 5}",
    )
    [window] = loads(tmp_path, text).services[0].slos[0].alerting.windows
    assert (window.severity, str(window.long), str(window.short)) == ("page", "2h", "10m")
    assert str(window.budget_fraction) == "0.05"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("[[ servcie ]] burns", "annotation template: 'servcie' is undefined"),
        (
            "[[ service ",
            "annotation template: unexpected end of template, expected 'end of print statement'.",
        ),
    ],
    ids=["undefined-variable", "syntax-error"],
)
def test_an_annotation_template_error_is_reported_at_the_template(
    tmp_path: Path, template: str, message: str
) -> None:
    text = one_slo("alerting:", "  annotations:", f"    summary: '{template}'")
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 16, 20, "spec.slos[0].alerting.annotations.summary", message)
    ]


def test_a_service_level_template_error_is_reported_once_at_the_service_level(
    tmp_path: Path,
) -> None:
    text = with_slos(
        f"""\
        - name: availability
          objective: 99.9
          {EVENTS_SLI}
        - name: errors
          objective: 99
          {EVENTS_SLI}
        """
    ).replace("  slos:\n", "  alerting:\n    annotations: {description: '[[ nope ]]'}\n  slos:\n")
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE,
            11,
            32,
            "spec.alerting.annotations.description",
            "annotation template: 'nope' is undefined",
        )
    ]


# -- all at once ------------------------------------------------------------------------------


def test_every_schema_mistake_of_a_file_is_reported_at_once_and_sorted(tmp_path: Path) -> None:
    text = (
        MINIMAL_SERVICE.replace("tier: 1", 'tier: "1"')
        .replace("  runbook:", "  colour: blue\n  runbook:")
        .replace("objective: 99.9", "objective: 100")
        + "      window: 5x\n"
    )
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 6, 9, "metadata.tier", "must be an integer, got a string '1'"),
        Problem(
            FILE,
            7,
            3,
            "metadata.colour",
            "unknown field 'colour' (allowed: description, labels, name, runbook, team, tier)",
        ),
        Problem(
            FILE,
            13,
            18,
            "spec.slos[0].objective",
            "must be a percentage strictly between 0 and 100, got 100",
        ),
        Problem(FILE, 16, 15, "spec.slos[0].window", BAD_DURATION.format("5x")),
    ]


def test_every_semantic_mistake_of_a_file_is_reported_at_once_and_sorted(tmp_path: Path) -> None:
    text = with_slos(
        f"""\
        - name: availability
          objective: 90
          {EVENTS_SLI}
        - name: errors
          objective: 99
          sli: {{events: {{total: t, bad: {{code: '5(..'}}}}}}
          grouping: [severity]
        - name: custom
          objective: 99
          {raw_sli("sum(rate(e[5m]))")}
        - name: errors
          objective: 99
          {EVENTS_SLI}
        """
    ).replace("  runbook:", "  labels: {slo: x}\n  runbook:")
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE,
            7,
            12,
            "metadata.labels.slo",
            "label 'slo' is set by perfdash and cannot be declared",
        ),
        Problem(
            FILE,
            13,
            18,
            "spec.slos[0].objective",
            "the page alert over 1h/5m can never fire: burn factor 14.4 x error budget 0.1 = "
            "1.44 >= 1 (an error ratio cannot exceed 100%); disable it (alerting.page: false) "
            "or declare alerting.windows",
        ),
        Problem(
            FILE,
            17,
            44,
            "spec.slos[1].sli.events.bad.code",
            "invalid regular expression '5(..': illegal regex for 5(..",
        ),
        Problem(
            FILE,
            18,
            18,
            "spec.slos[1].grouping[0]",
            "'severity' is set by perfdash; group by another label",
        ),
        Problem(
            FILE,
            21,
            24,
            "spec.slos[2].sli.raw.bad",
            "raw PromQL must use {{ window }} for its range, e.g. rate(x[{{ window }}])",
        ),
        Problem(
            FILE,
            22,
            13,
            "spec.slos[3].name",
            "duplicate SLO name 'errors' (first at spec.slos[1])",
        ),
    ]


def test_problems_of_several_files_are_reported_together_sorted_by_file(tmp_path: Path) -> None:
    write_declaration(
        tmp_path / "slos", "b.yaml", MINIMAL_SERVICE.replace("objective: 99.9", "objective: 100")
    )
    write_declaration(
        tmp_path / "slos",
        "a.yaml",
        MINIMAL_SERVICE.replace("name: checkout", "name: cart").replace("tier: 1", "tier: 0"),
    )
    write_declaration(tmp_path / "slos", "c.yaml", "apiVersion: [\n")
    with pytest.raises(SpecError) as caught:
        load(tmp_path)
    assert caught.value.problems == (
        Problem("slos/a.yaml", 6, 9, "metadata.tier", "must be at least 1, got 0"),
        Problem(
            "slos/b.yaml",
            12,
            18,
            "spec.slos[0].objective",
            "must be a percentage strictly between 0 and 100, got 100",
        ),
        Problem(
            "slos/c.yaml",
            2,
            1,
            "",
            "YAML syntax error: while parsing a flow node did not find expected node content",
        ),
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (".inf", "must be a finite number, got .inf"),
        ("-.inf", "must be a finite number, got -.inf"),
        (".nan", "must be a finite number, got .nan"),
        ("-5", "threshold -5: expected a percentage, 0 or more"),
    ],
)
def test_a_baseline_threshold_must_be_a_finite_percentage(
    tmp_path: Path, value: str, message: str
) -> None:
    text = MINIMAL_SERVICE + (
        f"  baselines:\n    - benchmark: checkout-api\n      thresholds: {{p95: {value}}}\n"
    )
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 17, 25, "spec.baselines[0].thresholds.p95", message)
    ]


def test_a_finite_baseline_threshold_is_kept_exactly(tmp_path: Path) -> None:
    text = MINIMAL_SERVICE + (
        "  baselines:\n    - benchmark: checkout-api\n      thresholds: {p95: 12.5, rps: 10}\n"
    )
    (baseline,) = loads(tmp_path, text).services[0].baselines
    assert dict(baseline.thresholds) == {"p95": Decimal("12.5"), "rps": Decimal("10")}


# -- one pass, and nothing left for later -----------------------------------------------------


def test_loading_schema_meaning_and_template_problems_come_in_one_report(tmp_path: Path) -> None:
    text = (
        one_slo(
            "alerting:",
            "  annotations:",
            "    summary: '{{ service }} burns'",
            objective="0.999",
        )
        .replace("  tier: 1\n", "  tier: 1\n  tier: 2\n")
        .replace("{job: checkout}", "{job: checkout, http-route: x}")
    )
    text += "    - name: latency\n      objective: .nan\n"
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 7, 3, "metadata.tier", "duplicate key 'tier' (first written at line 6)"),
        Problem(FILE, 10, 29, "spec.selector.http-route", f"'http-route' {LABEL_NAME}"),
        Problem(
            FILE,
            13,
            18,
            "spec.slos[0].objective",
            "objective is a percentage: did you mean 99.9? (0.999 means 0.999% of events are good)",
        ),
        Problem(
            FILE,
            17,
            20,
            "spec.slos[0].alerting.annotations.summary",
            'Prometheus would refuse the annotation: function "service" not defined: '
            "perfdash's values are written [[ service ]]; {{ }} is Prometheus' own",
        ),
        Problem(FILE, 18, 7, "spec.slos[1]", "missing required field 'sli'"),
        Problem(FILE, 19, 18, "spec.slos[1].objective", "must be a finite number, got .nan"),
    ]


def test_a_template_is_checked_once_its_slo_maps_even_if_another_part_is_wrong(
    tmp_path: Path,
) -> None:
    text = one_slo("alerting:", "  annotations:", "    summary: '{{ end }}'").replace(
        "tier: 1", "tier: 7"
    )
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 6, 9, "metadata.tier", "must be at most 4, got 7"),
        Problem(
            FILE,
            16,
            20,
            "spec.slos[0].alerting.annotations.summary",
            "Prometheus would refuse the annotation: unexpected {{end}}",
        ),
    ]


def test_what_validate_accepts_promtool_accepts(tmp_path: Path) -> None:
    """Templates that pass validation load in Prometheus: nothing fails later."""
    promtool = require_binary("promtool")
    text = one_slo(
        "grouping: [route]",
        "alerting:",
        "  labels: {channel: '#{{ $labels.route }}'}",
        "  annotations:",
        "    summary: '[[ service ]] {{ $labels.route }} at {{ humanizePercentage $value }}'",
        "    description: |",
        '      [% for g in grouping %][[ g ]]={{ index $labels "[[ g ]]" }} [% endfor %]',
        "      {{ if gt $value 0.1 }}bad{{ else }}meh{{ end }} [[ factor ]]x",
    )
    write_declaration(tmp_path / "slos", "checkout.yaml", text)
    assert run_cli(["build", "--out", "out"], cwd=tmp_path).exit_code == 0
    rules = sorted(str(p) for p in (tmp_path / "out" / "alerts" / "rules").glob("*.yaml"))
    checked = subprocess.run([promtool, "check", "rules", *rules], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_two_names_giving_one_dashboard_uid_are_reported_with_both_places(tmp_path: Path) -> None:
    long = "a" * 40
    short = "a" * 28 + "-e33cdf9c"  # what the long name's uid is truncated and hashed to
    write_declaration(
        tmp_path / "slos", "a.yaml", MINIMAL_SERVICE.replace("name: checkout", f"name: {long}")
    )
    write_declaration(
        tmp_path / "slos", "b.yaml", MINIMAL_SERVICE.replace("name: checkout", f"name: {short}")
    )
    with pytest.raises(SpecError) as caught:
        load(tmp_path)
    assert caught.value.problems == (
        Problem(
            "slos/b.yaml",
            4,
            9,
            "metadata.name",
            f"service {short!r} would get dashboard uid 'pd-{short}', the uid of service "
            f"{long!r} (slos/a.yaml:4): shorten one of the names",
        ),
    )


@pytest.mark.parametrize("name", ["checkout\n", "checkout\r", " checkout", "check\tout"])
def test_a_name_with_a_newline_or_space_is_refused_by_both_validators(
    tmp_path: Path, name: str
) -> None:
    text = MINIMAL_SERVICE.replace("name: checkout", f"name: {json.dumps(name)}")
    [problem] = problems_of(tmp_path, text)
    assert (problem.line, problem.field) == (4, "metadata.name")
    assert problem.message.startswith("must be lowercase letters, digits and dashes")
