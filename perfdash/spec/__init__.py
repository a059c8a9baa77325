"""Declarations: load YAML with positions, validate, build the frozen model."""

from perfdash.spec.validate import build_fleet, load_fleet, load_fleet_then

__all__ = ["build_fleet", "load_fleet", "load_fleet_then"]
