"""perfdash: SLOs, alerts, dashboards and performance baselines as code."""

__version__ = "0.1.0"
