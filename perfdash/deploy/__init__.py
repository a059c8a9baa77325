"""Deploying generated output where it runs: Grafana (client, live state, plan, apply),
rule files for Prometheus, a Mimir/Cortex ruler, the combined plan/apply of every target,
its rendering and metrics, over one HTTP layer bounded against any server.

Import submodules directly (``perfdash.deploy.run``).
"""
