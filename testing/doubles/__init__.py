"""In-process doubles of the HTTP servers perfdash deploys to (Grafana, a Mimir ruler).

Each serves real HTTP on 127.0.0.1 from a thread, behaves as the server's documented
API says, and can inject faults (error statuses, 429 with Retry-After, slow answers,
dropped connections) and latency. The benchmarks use them too.
"""
