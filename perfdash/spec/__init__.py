"""Declarations: load YAML with positions, validate, build the frozen model."""

from perfdash.spec.validate import MissingRunbook, build_fleet, load_fleet

__all__ = ["MissingRunbook", "build_fleet", "load_fleet"]
