"""Prometheus output: burn-rate windows, rules, generated promtool tests, promtool runner.

Import submodules directly (``perfdash.prometheus.rules``); this package imports nothing
so that ``perfdash.spec`` can use the window arithmetic without loading the rest.
"""
