"""One SLO's promtool test: its own three rule groups and its generated test files.

``perfdash test`` runs each SLO against its own rule groups only (the service's rule
file holds every SLO's; loading them all made each test evaluate four times the rules).
The groups are exactly those of ``alerts/rules/<service>.yaml``, and the test files
exactly ``alerts/tests/<service>/<slo>*.yaml``, with ``rule_files`` pointed at the
SLO's groups when the test runs (``write_runnable``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from perfdash.model.fleet import SLO, Service
from perfdash.prometheus.rule_tests import build_slo_tests
from perfdash.prometheus.rules import build_groups
from perfdash.yamlout import dump

__test__ = False  # test_key is not a pytest test
RUNNER_VERSION = "1"  # bump when how a unit is run changes: recorded results expire
RULES_NAME = "rules.yaml"


@dataclass(frozen=True)
class Unit:
    service: str
    slo: str
    rules: str  # the SLO's three rule groups, as YAML
    tests: tuple[tuple[str, str], ...]  # (relative path, text) of its test files

    def digest(self) -> str:
        """SHA-256 of the rule text and the test files (paths and texts)."""
        digest = hashlib.sha256()
        for part in (self.rules, *(p for pair in self.tests for p in pair)):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()

    def key(self, promtool_version: str) -> str:
        return test_key(self.digest(), promtool_version)


def test_key(content_digest: str, promtool_version: str) -> str:
    """Content address of a test: what it runs, how perfdash runs it, which promtool."""
    text = f"{RUNNER_VERSION}\0{promtool_version}\0{content_digest}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def slo_unit(service: Service, slo: SLO) -> Unit | None:
    """The SLO's test unit; None when no test can be generated for it."""
    tests = build_slo_tests(service, slo)
    if not tests:
        return None
    rules = dump({"groups": build_groups(service, slo)})
    return Unit(service.name, slo.name, rules, tuple(tests.items()))


def write_runnable(unit: Unit, folder: Path) -> list[Path]:
    """Write the unit into ``folder`` so promtool can run it: the SLO's rule groups, and
    each test file with ``rule_files`` pointed at them. Returns the test files."""
    (folder / RULES_NAME).write_text(unit.rules, encoding="utf-8")
    written = []
    for path, text in unit.tests:
        document = _load_yaml(text)
        document["rule_files"] = [RULES_NAME]
        target = folder / path.rsplit("/", 1)[1]
        target.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        written.append(target)
    return written


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # a safe loader (C when available)


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
