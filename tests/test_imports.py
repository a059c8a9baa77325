"""Imports point one way: spec -> model <- generators <- build <- commands.

Every ``import`` of a perfdash module anywhere in perfdash/ (at module level or inside a
function) is checked against the layers below; a test fails when one runs the wrong way.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "perfdash"
# Small modules every layer may use: values, names, errors, text, processes.
BASE = {"errors", "durations", "numbers", "conventions", "yamlout", "parallel", "process"}
BASE |= {"text", "terminal"}
GENERATORS = {"prometheus", "grafana", "alertmanager", "runbooks", "explain", "alert_changes"}
# layer -> the layers it may import (besides itself and base)
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "model": set(),
    "spec": {"model"},
    "generator": {"model"},  # generators never import each other, spec, build or deploy
    "output": set(),
    "build": {"model", "generator", "output"},
    "pipeline": {"model", "spec", "generator", "build", "output"},
    "verify": {"model", "generator", "output"},
    "deploy": {"model", "generator", "output"},
    "baseline": {"model", "deploy"},  # a verdict is pushed as deploy pushes apply metrics
    "git_revision": set(),  # declarations at a git revision (plan --since)
    "live": {"model", "spec", "deploy"},  # what a live Prometheus has (check, init)
    "scaffold": {"model", "spec", "live"},  # the files of `perfdash init`
    "preview": {"model", "spec", "generator", "build", "output", "baseline", "pipeline"},
    "commands": {
        "model",
        "spec",
        "generator",
        "build",
        "output",
        "pipeline",
        "verify",
        "deploy",
        "baseline",
        "preview",
        "git_revision",
        "live",
        "scaffold",
    },
    "cli": {"commands"},
    "main": {"cli"},
    "root": set(),
}


def layer(module: str) -> str:
    parts = module.split(".")
    if parts in (["perfdash"], ["perfdash", "__version__"]):
        return "root"
    name = parts[1]
    if name in BASE:
        return "base"
    if name in GENERATORS:
        return "generator"
    if name == "__main__":
        return "main"
    return name


def generator(module: str) -> str:
    return module.split(".")[1]


def perfdash_imports() -> list[tuple[str, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        module = ".".join(parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
                if node.module == "perfdash":  # from perfdash import conventions
                    targets = [f"perfdash.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            found += [(module, t) for t in targets if t.split(".")[0] == "perfdash"]
    return found


def test_every_layer_is_known() -> None:
    layers = {layer(m) for pair in perfdash_imports() for m in pair}
    assert layers <= set(ALLOWED), layers - set(ALLOWED)


def test_imports_point_one_way() -> None:
    wrong = []
    for importer, imported in perfdash_imports():
        source, target = layer(importer), layer(imported)
        if target in ("base", source) and not (
            source == target == "generator" and generator(importer) != generator(imported)
        ):
            continue
        if target == "root":
            continue  # perfdash.__version__
        if target not in ALLOWED[source] or (source == target == "generator"):
            wrong.append(f"{importer} -> {imported} ({source} may not import {target})")
    assert wrong == []


def test_the_checker_sees_a_wrong_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is not vacuous: a generator importing deploy code is caught."""
    fake = tmp_path / "perfdash"
    (fake / "grafana").mkdir(parents=True)
    (fake / "grafana" / "service.py").write_text("from perfdash.deploy.http import HttpClient\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    with pytest.raises(AssertionError, match="generator may not import deploy"):
        test_imports_point_one_way()


def test_loading_declarations_loads_no_generator_network_or_database_code() -> None:
    program = (
        "import sys, perfdash.spec; "
        "print(sorted(m for m in sys.modules if m.startswith(("
        "'perfdash.prometheus', 'perfdash.grafana', 'perfdash.deploy', 'perfdash.build', "
        "'httpx', 'psycopg', 'grafanalib'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert done.stdout.strip() == "[]"
