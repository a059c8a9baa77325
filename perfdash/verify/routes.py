"""``perfdash test``, Alertmanager part: amtool check-config and the generated route tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from perfdash import conventions
from perfdash.alertmanager import amtool


@dataclass(frozen=True)
class RouteResult:
    name: str
    expected: str
    got: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.got == (self.expected,)


def run_routing_checks(out_dir: Path) -> list[RouteResult] | None:
    """None when the output has no routes (no Team declared); raises when amtool rejects
    the configuration; else one result per generated route test."""
    routes = out_dir / conventions.ROUTES_PATH
    if not routes.is_file():
        return None
    amtool.check_config(routes)
    cases = yaml.safe_load((out_dir / conventions.ROUTE_TESTS_PATH).read_text(encoding="utf-8"))[
        "cases"
    ]
    return [
        RouteResult(
            case["name"], case["receiver"], tuple(amtool.routes_test(routes, case["labels"]))
        )
        for case in cases
    ]
