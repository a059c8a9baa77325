"""``perfdash apply --vmalert-url``: what a real vmalert says when the rules do not load."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from perfdash import conventions
from testing.processes import free_port
from testing.stack import Process, running
from testing.victoria import wait_http
from tests.conftest import require_binary
from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration

pytestmark = pytest.mark.integration


@pytest.fixture
def vmalert(tmp_path: Path) -> Iterator[tuple[Process, Path]]:
    """vmalert watching tmp/rules/*.yaml (nothing there yet); its datasource is never asked."""
    binary = require_binary("vmalert", package="victoria-metrics")
    rules = tmp_path / "rules"
    rules.mkdir()
    port = free_port()
    with running(
        "vmalert",
        [
            binary,
            f"-rule={rules}/*.yaml",
            "-datasource.url=http://127.0.0.1:9",
            "-notifier.url=http://127.0.0.1:9",
            f"-httpListenAddr=127.0.0.1:{port}",
        ],
        url=f"http://127.0.0.1:{port}",
        log_path=tmp_path / "vmalert.log",
    ) as process:
        wait_http(process, "/health")
        yield process, rules


def test_a_rule_file_vmalert_refuses_fails_apply_with_its_reason(
    vmalert: tuple[Process, Path], tmp_path: Path
) -> None:
    process, rules = vmalert
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    # Someone else's broken file in the folder: vmalert refuses the whole reload.
    (rules / "broken.yaml").write_text(
        "groups: [{name: broken, rules: [{record: x, expr: 'sum('}]}]\n", encoding="utf-8"
    )
    result = run_cli(
        ["apply", "--rules-dir", str(rules), "--vmalert-url", process.url], cwd=tmp_path
    )
    assert result.exit_code == 1
    assert f"vmalert {process.url}: vmalert refused the rules and keeps its previous ones" in (
        result.stderr
    )
    assert "vmalert -dryRun:" in result.stderr
    assert 'invalid group "broken"' in result.stderr


def test_groups_vmalert_does_not_load_are_named(
    vmalert: tuple[Process, Path], tmp_path: Path
) -> None:
    process, _ = vmalert
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    elsewhere = tmp_path / "not-watched"
    result = run_cli(
        ["apply", "--rules-dir", str(elsewhere), "--vmalert-url", process.url], cwd=tmp_path
    )
    assert result.exit_code == 1
    groups = sorted(
        (
            conventions.group_name("checkout", "availability"),
            conventions.long_group_name("checkout", "availability"),
            conventions.budget_group_name("checkout", "availability"),
        )
    )
    assert (
        f"3 rule group(s) not loaded from {elsewhere}: {', '.join(groups)}; "
        f"is vmalert started with -rule={elsewhere}/*.yaml?"
    ) in result.stderr
