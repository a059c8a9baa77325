"""Deploying generated output where it runs: rule files for Prometheus, a Mimir/Cortex
ruler, the combined plan/apply of every target, its rendering and metrics.

Grafana's own client, plan and apply live in ``perfdash.grafana``. Import submodules
directly (``perfdash.deploy.run``).
"""
