"""``perfdash schema``: the packaged JSON Schema, and its copy in docs/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfdash.spec.schema import schema_text
from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with one valid declaration under slos/."""
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    return tmp_path


def test_schema_prints_the_packaged_json_schema(project: Path) -> None:
    result = run_cli(["schema"], cwd=project)
    assert result.exit_code == 0
    assert result.stdout == schema_text()
    assert json.loads(result.stdout)["properties"]["apiVersion"]["const"] == "perfdash/v1"


def test_the_schema_copy_in_docs_is_current() -> None:
    committed = Path(__file__).parents[2] / "docs" / "perfdash-v1.schema.json"
    assert committed.read_text(encoding="utf-8") == schema_text(), (
        "docs/perfdash-v1.schema.json is stale: perfdash schema > docs/perfdash-v1.schema.json"
    )
