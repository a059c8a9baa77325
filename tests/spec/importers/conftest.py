"""Run an importer on the upstream examples and load what it wrote, as a user would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from perfdash.model.fleet import Fleet
from perfdash.output import write_file
from perfdash.spec import load_fleet
from perfdash.spec.importers import ImportOptions, ImportResult, import_declarations

FIXTURES = Path(__file__).parent / "fixtures"
Importer = Callable[..., tuple[Fleet, ImportResult]]


@pytest.fixture
def imported(tmp_path: Path) -> Importer:
    """``imported("sloth", "getting-started.yml", team=...)``: the import written under a
    temporary slos/ and loaded back with ``load_fleet`` (the same validation as always)."""

    def run(source: str, *names: str, **options: object) -> tuple[Fleet, ImportResult]:
        out = tmp_path / "slos"
        result = import_declarations(
            source,
            [FIXTURES / source / name for name in names],
            out_dir=out,
            options=ImportOptions(**options),  # type: ignore[arg-type]
        )
        for file in result.files:
            write_file(file.path, file.text)
        return load_fleet([out], root=tmp_path), result

    return run
