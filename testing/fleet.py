"""Synthetic fleets for benchmarks and scale tests: N services x 4 SLOs.

Each service gets one SLO of every kind perfdash compiles (events, latency, grouped
events, raw PromQL), with objectives, windows and alerting overrides varied across
services so the generated rules are as diverse as a real fleet's.

    python -m testing.fleet 1000 /tmp/fleet-1000
"""

from __future__ import annotations

import sys
from pathlib import Path

OBJECTIVES = ("99.9", "99.5", "99.95", "99")
WINDOWS = ("30d", "28d")
TEAMS = ("payments", "discovery", "platform", "web", "data", "identity", "growth", "ops")


def service_yaml(index: int) -> str:
    name = f"svc-{index:04d}"
    team = TEAMS[index % len(TEAMS)]
    tier = 1 + index % 4
    objective = OBJECTIVES[index % len(OBJECTIVES)]
    window = WINDOWS[index % len(WINDOWS)]
    overrides = "      alerting: {ticket: false}\n" if index % 5 == 0 else ""
    return f"""apiVersion: perfdash/v1
kind: Service
metadata:
  name: {name}
  team: {team}
  tier: {tier}
  runbook: https://runbooks.example.com/{name}
  labels: {{env: prod}}
spec:
  selector: {{job: {name}}}
  red:
    requests: http_requests_total
    errors: {{code: "5.."}}
    duration: http_request_duration_seconds
  slos:
    - name: availability
      objective: {objective}
      window: {window}
      sli:
        events: {{total: http_requests_total, bad: {{code: "5.."}}}}
{overrides}    - name: latency
      objective: 99
      window: {window}
      sli:
        latency: {{histogram: http_request_duration_seconds, threshold: 0.25}}
      alerting: {{for: 2m}}
    - name: routes
      objective: 99.5
      window: {window}
      grouping: [route]
      sli:
        events: {{total: http_requests_total, bad: {{code: "5..|429"}}}}
    - name: jobs
      objective: 99.9
      window: {window}
      sli:
        raw:
          bad: sum(rate(jobs_failed_total{{job="{name}"}}[{{{{ window }}}}]))
          total: sum(rate(jobs_processed_total{{job="{name}"}}[{{{{ window }}}}]))
"""


def write_fleet(services: int, out_dir: Path, *, per_file: int = 1) -> list[Path]:
    """Write ``services`` declarations into ``out_dir`` (``per_file`` documents a file)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for start in range(0, services, per_file):
        docs = [service_yaml(i) for i in range(start, min(start + per_file, services))]
        path = out_dir / f"fleet-{start:04d}.yaml"
        path.write_text("---\n".join(docs), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(f"fleet-{count}")
    write_fleet(count, target)
    print(f"wrote {count} services to {target}")
