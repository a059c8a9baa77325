"""Declarations: load YAML with positions, validate, build the frozen model."""

from perfdash.spec.model import SLO, Fleet, Service
from perfdash.spec.validate import build_fleet, load_fleet

__all__ = ["SLO", "Fleet", "Service", "build_fleet", "load_fleet"]
