"""Grafana output: panels, dashboards (service, overview), jsonnet overrides, provisioning;
and deploying them: the HTTP client, live state, plan and apply.

Import submodules directly (``perfdash.grafana.dashboards``).
"""
