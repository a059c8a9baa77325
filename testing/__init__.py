"""What tests/ and benchmarks/ share: doubles of the servers perfdash deploys to, an
instrumented service, the Prometheus/Alertmanager stack, fleet and result generators,
a throwaway PostgreSQL, process helpers.

Both import this package; neither imports the other (pre-commit keeps the same split).
"""
