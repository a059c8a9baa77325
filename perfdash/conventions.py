"""Stable identifiers shared by rules and dashboards."""

from __future__ import annotations

import hashlib

UID_MAX = 40  # Grafana's limit on dashboard uids
OVERVIEW_UID = "pd-overview"


def dashboard_uid(service_name: str) -> str:
    """``pd-<service>``; names too long for Grafana's 40 characters get a hashed suffix."""
    uid = f"pd-{service_name}"
    if len(uid) <= UID_MAX:
        return uid
    digest = hashlib.sha256(service_name.encode()).hexdigest()[:8]
    return f"{uid[: UID_MAX - 9]}-{digest}"
