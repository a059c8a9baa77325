"""Prometheus output: PromQL fragments, recording and alerting rules, generated promtool
tests, PrometheusRule manifests, and the promtool runner.

Import submodules directly (``perfdash.prometheus.rules``).
"""
