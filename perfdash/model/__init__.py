"""The validated, frozen model of a fleet, and the arithmetic on it.

``perfdash.spec`` builds it from declarations; every generator reads it. It imports
nothing of either, so both can depend on it.
"""

from perfdash.model.fleet import (
    RED,
    SLI,
    SLO,
    Alerting,
    AlertWindow,
    Annotations,
    Baseline,
    EventsSLI,
    Fleet,
    LatencySLI,
    Matcher,
    RawSLI,
    Receivers,
    Service,
    Team,
    Timing,
)

__all__ = [
    "RED",
    "SLI",
    "SLO",
    "AlertWindow",
    "Alerting",
    "Annotations",
    "Baseline",
    "EventsSLI",
    "Fleet",
    "LatencySLI",
    "Matcher",
    "RawSLI",
    "Receivers",
    "Service",
    "Team",
    "Timing",
]
