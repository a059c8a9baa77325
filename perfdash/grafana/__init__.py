"""Grafana output: panels, dashboards (service, overview), jsonnet overrides, provisioning.

Import submodules directly (``perfdash.grafana.dashboards``).
"""
