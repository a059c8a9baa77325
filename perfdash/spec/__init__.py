"""Declarations: load YAML with positions, validate, build the frozen model."""

from typing import Any

from perfdash.spec.model import SLO, Fleet, Service

__all__ = ["SLO", "Fleet", "Service", "build_fleet", "load_fleet", "load_fleet_then"]


def __getattr__(name: str) -> Any:
    # Imported on first use: validation needs perfdash.prometheus, whose window
    # arithmetic itself imports perfdash.spec.model.
    if name in ("build_fleet", "load_fleet", "load_fleet_then"):
        from perfdash.spec import validate

        return getattr(validate, name)
    raise AttributeError(name)
