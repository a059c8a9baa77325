"""Connection settings: a URL's credentials are taken out and never printed, a URL that
is not one is a clear error that does not quote it, and numbers, flags and texts of
perfdash.yaml are checked."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest

from perfdash.deploy.http import MIB, Limits
from perfdash.deploy.settings import Endpoint, Secret, load_settings, parse_url
from perfdash.errors import ConfigError, redact
from testing.doubles.grafana import GrafanaDouble
from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration

PASSWORD = "S3cretPw99"


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("https://grafana.example.com/", Endpoint("https://grafana.example.com")),
        ("HTTP://Grafana:3000/sub/path", Endpoint("http://Grafana:3000/sub/path")),
        ("http://[::1]:3000", Endpoint("http://[::1]:3000")),
        ("http://admin:pw@host:3000", Endpoint("http://host:3000", "admin", Secret("pw"))),
        ("http://ad%40min:S3cret%2FPw99@host", Endpoint("http://host", "ad@min")),
    ],
)
def test_a_url_loses_its_credentials_which_become_basic_auth(url: str, endpoint: Endpoint) -> None:
    parsed = parse_url(url, "GRAFANA_URL")
    assert parsed == endpoint
    assert parsed is not None
    if "S3cret" in url:
        assert parsed.password == Secret("S3cret/Pw99")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("admin:S3cretPw99@grafana:3000", "GRAFANA_URL: is not a URL: it has no scheme"),
        ("grafana.example.com", "GRAFANA_URL: is not a URL: it has no scheme"),
        ("ftp://admin:S3cretPw99@host", "GRAFANA_URL: is not an http(s) URL"),
        (
            "http://admin:S3cret/Pw99@host",
            "GRAFANA_URL: is not a valid URL: an '@' follows the host. If it ends a password "
            "holding '/', '?' or '#', percent-encode those (%2F, %3F, %23)",
        ),
        ("http://admin:S3cret?Pw99@host", "GRAFANA_URL: is not a valid URL: an '@' follows"),
        ("http://host:S3cretPw99", "GRAFANA_URL: is not a valid URL: its port is not a number"),
        ("http://host:99999", "GRAFANA_URL: is not a valid URL: its port is not a number"),
        ("http://admin:S3cretPw99@", "GRAFANA_URL: is not a valid URL: it names no host"),
        ("http://admin@host", "GRAFANA_URL: credentials in a URL need a user and a password"),
        ("http://host/?token=S3cretPw99", "GRAFANA_URL: a server URL takes no query"),
        ("http://host/ S3cretPw99", "GRAFANA_URL: is not a URL: it holds spaces or control"),
        ("http://host/\x1b]0;x\x07", "GRAFANA_URL: is not a URL: it holds spaces or control"),
    ],
)
def test_a_malformed_url_is_a_clear_error_that_never_quotes_it(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_url(url, "GRAFANA_URL")
    assert str(caught.value).startswith(message)
    for part in ("S3cret", "Pw99", "admin", "grafana"):
        assert part not in str(caught.value)


def test_a_url_that_is_not_text_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "perfdash.yaml"
    config.write_text("grafana:\n  url: [1, 2]\n")
    with pytest.raises(ConfigError, match=r"perfdash.yaml: grafana.url: must be an http\(s\) URL"):
        load_settings(options={}, environ={}, config_path=config)


def test_credentials_in_the_url_and_in_the_environment_are_refused() -> None:
    environ = {"GRAFANA_URL": "http://admin:pw12@host", "GRAFANA_TOKEN": "glsa_x"}
    with pytest.raises(ConfigError, match="Grafana credentials are given twice"):
        load_settings(options={}, environ=environ, config_path=None)


def test_the_ruler_prometheus_and_pushgateway_urls_lose_their_credentials_too() -> None:
    settings = load_settings(
        options={
            "ruler_url": "https://ops:r0ler-pw@mimir:8080",
            "rules_dir": Path("/rules"),
            "prometheus_url": "http://ops:pr0m-pw@prom:9090",
            "pushgateway": "http://ops:pu5h-pw@pushgateway:9091",
        },
        environ={},
        config_path=None,
    )
    assert settings.ruler is not None and settings.prometheus is not None
    assert (settings.ruler.url, settings.ruler.user) == ("https://mimir:8080", "ops")
    assert settings.ruler.password == Secret("r0ler-pw")
    assert settings.prometheus == Endpoint("http://prom:9090", "ops")
    assert settings.pushgateway == Endpoint("http://pushgateway:9091", "ops")
    for secret in ("r0ler-pw", "pr0m-pw", "pu5h-pw"):
        assert redact(f"said {secret}") == "said ***"  # registered: no message shows it


def test_limits_come_from_options_or_perfdash_yaml(tmp_path: Path) -> None:
    config = tmp_path / "perfdash.yaml"
    config.write_text(
        "grafana:\n  url: http://g\n  timeout: 5\n  max_response_mb: 2\n  max_pages: 7\n"
    )
    settings = load_settings(options={"max_pages": 9}, environ={}, config_path=config)
    assert settings.limits == Limits(timeout=5.0, max_response_bytes=2 * MIB, max_pages=9)
    assert settings.grafana is not None and settings.grafana.limits == settings.limits


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("timeout: soon", "perfdash.yaml: grafana.timeout: must be a number"),
        ("timeout: .nan", "perfdash.yaml: grafana.timeout: must be a positive number"),
        ("max_response_mb: -1", "grafana.max_response_mb: must be a positive number"),
        ("max_pages: lots", "perfdash.yaml: grafana.max_pages: must be an integer"),
        ("insecure: 'no'", "insecure: must be true or false, got str"),
        ("org_id: [1]", "perfdash.yaml: grafana.org_id: must be an integer"),
        ("user: {name: x}", "perfdash.yaml: grafana.user: must be text, got dict"),
    ],
)
def test_wrongly_typed_settings_are_clear_errors(tmp_path: Path, line: str, message: str) -> None:
    config = tmp_path / "perfdash.yaml"
    config.write_text(f"grafana:\n  url: http://g\n  {line}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(options={}, environ={}, config_path=config)
    assert message in str(caught.value)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    return tmp_path


@pytest.mark.parametrize("output", ["text", "markdown", "json"])
def test_the_password_of_grafana_url_shows_nowhere(
    project: Path, output: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The issue's attack: GRAFANA_URL='http://admin:S3cretPw99@127.0.0.1:PORT' perfdash
    plan --format markdown put the password in the header and every -v line."""
    caplog.set_level(logging.DEBUG)
    with GrafanaDouble(token=None, users={"admin": PASSWORD}) as double:
        monkeypatch.setenv("GRAFANA_URL", double.url.replace("//", f"//admin:{PASSWORD}@"))
        result = run_cli(["plan", "--format", output, "-vv"], cwd=project)
        sent = double.requests()[0].headers["authorization"]
        url = double.url
    assert result.exit_code == 0, result.stderr
    assert url in result.stdout  # the header names the server, without credentials
    assert "GET http://127.0.0.1:" in result.stderr  # -v request lines are there
    basic = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    assert sent == f"Basic {basic}"  # the credentials went as basic auth
    for text in (result.stdout, result.stderr, caplog.text):
        assert PASSWORD not in text
        assert basic not in text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://admin:S3cret/Pw99@127.0.0.1:3000",
            "Error: GRAFANA_URL: is not a valid URL: an '@' follows the host.",
        ),
        (
            "admin:S3cretPw99@127.0.0.1:3000",
            "Error: GRAFANA_URL: is not a URL: it has no scheme (write it as https://host[:port])\n",
        ),
    ],
)
def test_a_malformed_grafana_url_exits_1_without_quoting_it(
    project: Path, url: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFANA_URL", url)
    result = run_cli(["plan", "-v"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert "S3cret" not in result.stdout + result.stderr
