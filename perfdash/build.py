"""Compile a fleet into every generated file: ``{relative path: text}``.

Pure: no file is read or written here. ``perfdash.output`` writes or checks the result.
"""

from __future__ import annotations

from perfdash.prometheus.rule_tests import build_rule_test_files
from perfdash.prometheus.rules import build_rule_files
from perfdash.spec.model import Fleet

# Folders whose perfdash-generated files a build owns: it may replace or delete them.
OWNED_DIRS = ("alerts/rules", "alerts/tests")


def build_artifacts(fleet: Fleet) -> dict[str, str]:
    artifacts = {**build_rule_files(fleet), **build_rule_test_files(fleet)}
    return dict(sorted(artifacts.items()))
