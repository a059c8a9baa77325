"""Docs are tested: generated references are current, examples are valid."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, require_binary

DOCS = REPO / "docs"
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)


def test_cli_reference_is_generated_from_the_current_help() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_cli_docs", REPO / "scripts/gen_cli_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == module.render(), (
        "docs/cli.md is stale: run python scripts/gen_cli_docs.py"
    )


@pytest.mark.integration
def test_the_alertmanager_example_is_a_valid_configuration(tmp_path: Path) -> None:
    amtool = require_binary("amtool")
    blocks = YAML_BLOCK.findall((DOCS / "alertmanager.md").read_text(encoding="utf-8"))
    assert blocks, "docs/alertmanager.md has no yaml example"
    for index, block in enumerate(blocks):
        config = tmp_path / f"alertmanager-{index}.yml"
        config.write_text(block, encoding="utf-8")
        done = subprocess.run(
            [amtool, "check-config", str(config)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert " - 3 inhibit rules" in done.stdout


@pytest.mark.integration
def test_the_alertmanager_example_routes_pages_and_tickets(tmp_path: Path) -> None:
    amtool = require_binary("amtool")
    config = tmp_path / "alertmanager.yml"
    config.write_text(YAML_BLOCK.findall((DOCS / "alertmanager.md").read_text())[0])
    for labels, receiver in (
        (["alertname=ErrorBudgetBurn", "severity=page", "service=checkout"], "pager"),
        (["alertname=ErrorBudgetBurn", "severity=ticket", "service=checkout"], "tickets"),
        (["alertname=SLIDataMissing", "severity=ticket", "service=checkout"], "tickets"),
    ):
        done = subprocess.run(
            [amtool, "config", "routes", "test", f"--config.file={config}", *labels],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.stdout.strip() == receiver, done.stdout + done.stderr


def _declaration_examples() -> list[tuple[str, str]]:
    examples = []
    for path in [REPO / "README.md", *sorted(DOCS.glob("*.md"))]:
        for index, block in enumerate(YAML_BLOCK.findall(path.read_text(encoding="utf-8"))):
            if "apiVersion: perfdash/v1" in block:
                examples.append((f"{path.name}#{index}", block))
    return examples


@pytest.mark.parametrize(("where", "block"), _declaration_examples(), ids=lambda v: str(v)[:30])
def test_every_declaration_example_in_the_docs_validates(
    where: str, block: str, tmp_path: Path
) -> None:
    from perfdash.spec import load_fleet

    path = tmp_path / "example.yaml"
    path.write_text(block, encoding="utf-8")
    fleet = load_fleet([path], root=tmp_path)
    assert fleet.services, where


def test_the_docs_show_declaration_examples() -> None:
    assert len(_declaration_examples()) >= 4
