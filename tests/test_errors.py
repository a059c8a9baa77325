"""perfdash's exceptions: secrets never reach a message, and spec problems print sorted."""

from __future__ import annotations

import inspect
import pickle

import pytest

from perfdash import errors
from perfdash.errors import PerfdashError, Problem, PromtoolError, SpecError, redact


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("postgresql://user:secret@host/db", "postgresql://user:***@host/db"),
        (
            "could not connect to postgresql://perf:s3cr3t@db.internal:5432/results?sslmode=require",
            "could not connect to postgresql://perf:***@db.internal:5432/results?sslmode=require",
        ),
        ("redis://:secret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("Authorization: Bearer glsa_abc.DEF-123", "Authorization: Bearer ***"),
        ("authorization: basic dXNlcjpwYXNz", "authorization: basic ***"),
        ("GET /api/dashboards?token=abc123&x=1", "GET /api/dashboards?token=***&x=1"),
        ("token: abc123", "token: ***"),
        ("host=db password=hunter2 user=perf", "host=db password=*** user=perf"),
        ("host=db password='correct horse' user=perf", "host=db password=*** user=perf"),
        ("PGPASSWORD=hunter2 psql", "PGPASSWORD=*** psql"),
        ("GRAFANA_TOKEN=glsa_abc", "GRAFANA_TOKEN=***"),
        ("callback?access_token=xyz&state=1", "callback?access_token=***&state=1"),
        ("api_key=k1, api-key=k2, apikey=k3", "api_key=***, api-key=***, apikey=***"),
        ("Secret: s3", "Secret: ***"),
        # a password that should have been percent-encoded: '/', '@', '?' in it
        ("http://admin:S3cret/Pw99@127.0.0.1:3000/api", "http://admin:***@127.0.0.1:3000/api"),
        ("see postgresql://u:p@ss@db/x now", "see postgresql://u:***@db/x now"),
        ("'http://admin:a?b#c@host'", "'http://admin:***@host'"),
        ("http://admin:S3cret%2FPw99@host", "http://admin:***@host"),
    ],
)
def test_redact_replaces_passwords_and_tokens(text: str, redacted: str) -> None:
    assert redact(text) == redacted


@pytest.mark.parametrize(
    "text",
    [
        "https://grafana.example.com:3000/d/abc",
        "https://user@grafana.example.com/api",
        "postgresql://localhost/results",
        "spec.slos[0].objective: must be a percentage strictly between 0 and 100, got 100",
        "max_tokens=5 tokens: 5",
    ],
)
def test_redact_leaves_text_without_secrets_alone(text: str) -> None:
    assert redact(text) == text


def test_registered_secrets_are_scrubbed_from_any_text() -> None:
    errors.register_secret("k7-registered-secret")
    errors.register_secret("abc")  # too short to scrub without mangling text
    assert redact("got k7-registered-secret back, abc") == "got *** back, abc"


def test_the_environments_secrets_are_registered() -> None:
    errors.register_environment_secrets(
        {
            "CI_DEPLOY_TOKEN": "tok-e1f2a3",
            "DB_URL": "postgresql://perf:p%2Fw-e4d5@db/results",
            "HOME": "/root",
        }
    )
    assert redact("tok-e1f2a3 p/w-e4d5 p%2Fw-e4d5 /root") == "*** *** *** /root"


def test_every_error_message_is_redacted() -> None:
    error = PerfdashError("cannot reach postgresql://perf:hunter2@db/results")
    assert str(error) == "cannot reach postgresql://perf:***@db/results"
    assert "hunter2" not in str(error)


def test_a_spec_error_lists_its_problems_sorted_one_per_line() -> None:
    error = SpecError(
        [
            Problem("slos/b.yaml", 3, 1, "metadata", "missing required field 'team'"),
            Problem(
                "slos/a.yaml",
                14,
                7,
                "spec.slos[1].objective",
                "must be a percentage strictly between 0 and 100, got 100",
            ),
            Problem("slos/a.yaml", 2, 7, "kind", "must be one of Service, Team, got 'Dashboard'"),
            Problem("slos/a.yaml", 14, 3, "", "YAML syntax error: found character '\\t'"),
        ]
    )
    assert str(error) == (
        "slos/a.yaml:2:7: kind: must be one of Service, Team, got 'Dashboard'\n"
        "slos/a.yaml:14:3: YAML syntax error: found character '\\t'\n"
        "slos/a.yaml:14:7: spec.slos[1].objective: must be a percentage strictly between 0 and "
        "100, got 100\n"
        "slos/b.yaml:3:1: metadata: missing required field 'team'"
    )
    assert [p.line for p in error.problems] == [2, 14, 14, 3]


def test_a_spec_error_reports_the_same_problem_once() -> None:
    problem = Problem("slos/a.yaml", 1, 1, "", "duplicate")
    assert SpecError([problem, problem]).problems == (problem,)


def test_a_spec_error_message_is_redacted_too() -> None:
    error = SpecError(
        [Problem("slos/a.yaml", 9, 5, "spec.store", "bad DSN postgresql://u:pw@h/db")]
    )
    assert str(error) == "slos/a.yaml:9:5: spec.store: bad DSN postgresql://u:***@h/db"


def test_a_promtool_error_shows_command_status_and_indented_output() -> None:
    error = PromtoolError(
        ["promtool", "check", "rules", "alerts/checkout.yaml"],
        1,
        "Checking alerts/checkout.yaml\n",
        "  FAILED:\nbad expr\n",
    )
    assert str(error) == (
        "command failed: promtool check rules alerts/checkout.yaml\n"
        "  exit status: 1\n"
        "  output:\n"
        "    Checking alerts/checkout.yaml\n"
        "      FAILED:\n"
        "    bad expr"
    )
    assert error.returncode == 1
    assert error.command == ("promtool", "check", "rules", "alerts/checkout.yaml")


def test_a_promtool_error_without_output_says_so() -> None:
    assert str(PromtoolError(["promtool"], 3, "", "")).endswith("  output:\n    (no output)")


def test_every_error_class_is_a_documented_perfdash_error_with_exit_status_1() -> None:
    classes = [
        value
        for value in vars(errors).values()
        if inspect.isclass(value)
        and issubclass(value, Exception)
        and value.__module__ == errors.__name__
    ]
    assert SpecError in classes
    for cls in classes:
        assert issubclass(cls, PerfdashError), cls
        assert cls.exit_code == 1, cls
        assert cls.__doc__, f"{cls.__name__} has no docstring saying when it is raised"


@pytest.mark.parametrize(
    "error",
    [
        SpecError([Problem("a.yaml", 3, 5, "spec.slos[0]", "missing required field 'sli'")]),
        PromtoolError(["promtool", "check", "rules", "x.yaml"], 1, "", "bad"),
        errors.OutputError("cannot write out/x: No space left on device", paths=["out/x"]),
        errors.GrafanaConflict("POST", "https://grafana/api/dashboards/db", status=412),
        errors.ApplyError(["dashboard pd-x: HTTP 500"], applied=3),
        errors.ResultFileError("run.json", 12, "not JSON"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_errors_survive_the_trip_from_a_worker_process(error: PerfdashError) -> None:
    # Generation runs in worker processes, which send their errors back pickled.
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__
