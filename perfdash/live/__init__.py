"""What a live Prometheus has: its HTTP API, the check of declarations against it
(``perfdash check``), and the SLIs ``perfdash init`` proposes from a job's metrics."""
