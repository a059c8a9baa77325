"""``perfdash init``: the files of a new repository of declarations, as values.

``scaffold_files`` returns ``{relative path: text}``: a Team and a Service under
``slos/`` (SLIs from flags, or from what a live Prometheus has for the job: see
``perfdash.live.discover``), the JSON Schema the ``yaml-language-server`` modeline points
to, the CI workflows (validate, build --check, test, check, plan on a pull request;
apply on main) and a ``.gitattributes`` that marks generated output so review tools
collapse it. The declarations are validated before anything is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from perfdash import __version__, conventions
from perfdash.live.discover import Discovered
from perfdash.model.fleet import Matcher
from perfdash.spec.document import PathKey
from perfdash.spec.fleet import build_fleet
from perfdash.spec.importers import emit
from perfdash.spec.importers.draft import Assembled, matcher_mapping
from perfdash.spec.load import load_text
from perfdash.spec.schema import schema_text

SCHEMA_PATH = "docs/perfdash-v1.schema.json"
GITATTRIBUTES = ".gitattributes"
GITATTRIBUTES_BLOCK = f"""\
# {conventions.GENERATED_MARK}: collapsed in pull-request diffs (review slos/ instead).
{conventions.RULES_DIR.split("/")[0]}/** linguist-generated=true
{conventions.DASHBOARDS_DIR}/**/*.json linguist-generated=true
.perfdash/** linguist-generated=true
{SCHEMA_PATH} linguist-generated=true
"""
WORKFLOWS = ("perfdash-pr.yml", "perfdash-apply.yml")
DEFAULT_REQUESTS = "http_requests_total"
DEFAULT_DURATION = "http_request_duration_seconds"
DEFAULT_THRESHOLD = Decimal("0.3")


@dataclass(frozen=True)
class Scaffold:
    team: str
    service: str
    job: str
    tier: int = 2
    runbook: str | None = None
    page_receiver: str | None = None
    ticket_receiver: str | None = None
    discovered: Discovered | None = None  # None: metric names from flags or defaults
    requests: str = DEFAULT_REQUESTS
    duration: str = DEFAULT_DURATION


def scaffold_files(scaffold: Scaffold) -> dict[str, str]:
    service_path = f"slos/{scaffold.team}/{scaffold.service}.yaml"
    files = {
        "slos/teams.yaml": _team(scaffold),
        service_path: emit.render(_service(scaffold), modeline="../../" + SCHEMA_PATH),
        SCHEMA_PATH: schema_text(),
        GITATTRIBUTES: GITATTRIBUTES_BLOCK,
    }
    for name in WORKFLOWS:
        template = resources.files("perfdash.templates").joinpath(f"workflow-{name}")
        text = template.read_text(encoding="utf-8").replace("[[ version ]]", __version__)
        files[f".github/workflows/{name}"] = text
    documents = [
        doc for path in ("slos/teams.yaml", service_path) for doc in load_text(files[path], path)
    ]
    build_fleet(documents)  # SpecError: nothing is written
    return files


def merged_gitattributes(existing: str) -> str:
    """``existing`` with perfdash's block added, unless its lines are all there already."""
    wanted = [line for line in GITATTRIBUTES_BLOCK.splitlines() if not line.startswith("#")]
    if all(line in existing.splitlines() for line in wanted):
        return existing
    separator = (
        ""
        if not existing or existing.endswith("\n\n")
        else "\n"
        if existing.endswith("\n")
        else "\n\n"
    )
    return existing + separator + GITATTRIBUTES_BLOCK


def _team(scaffold: Scaffold) -> str:
    page = scaffold.page_receiver or f"{scaffold.team}-pager"
    ticket = scaffold.ticket_receiver or f"{scaffold.team}-tickets"
    return (
        "# yaml-language-server: $schema=../" + SCHEMA_PATH + "\n"
        "# Where the team's SLO alerts go: receiver names of your Alertmanager configuration\n"
        "# (which keeps their secrets); `perfdash build --alertmanager-out` writes the routes.\n"
        "apiVersion: perfdash/v1\n"
        "kind: Team\n"
        f"metadata: {{name: {scaffold.team}}}\n"
        "spec:\n"
        f"  receivers: {{page: {emit.flow_string(page)}, ticket: {emit.flow_string(ticket)}}}\n"
    )


def _service(scaffold: Scaffold) -> Assembled:
    found = scaffold.discovered
    comments: dict[PathKey, list[str]] = {}
    selector = (Matcher("job", "=", scaffold.job),)
    requests = found.requests if found else scaffold.requests
    label = (found.error_label if found else None) or "code"
    pattern = (found.error_pattern if found else None) or "5.."
    histogram = found.histogram if found else scaffold.duration
    threshold = (found.threshold if found else None) or DEFAULT_THRESHOLD
    metadata: dict[str, Any] = {
        "name": scaffold.service,
        "team": scaffold.team,
        "tier": scaffold.tier,
    }
    if scaffold.runbook:
        metadata["runbook"] = scaffold.runbook
    red: dict[str, Any] = {}
    slos: list[dict[str, Any]] = []
    if requests:
        red = {"requests": requests, "errors": {label: pattern}}
        slos.append(
            {
                "name": "availability",
                "objective": Decimal("99.9"),
                "window": "30d",
                "sli": {"events": {"total": requests, "bad": {label: pattern}}},
            }
        )
    if histogram:
        red["duration"] = histogram
        slos.append(
            {
                "name": "latency",
                "objective": Decimal("99"),
                "window": "30d",
                "sli": {"latency": {"histogram": histogram, "threshold": threshold}},
            }
        )
    if found:
        where = f"the live metrics of job {found.job!r}"
        comments[("spec", "slos")] = [
            f"Proposed from {where}: set the objectives to what users need."
        ]
        if histogram and found.boundaries:
            index = len(slos) - 1
            comments[("spec", "slos", index, "sli")] = [
                f"{histogram} has buckets at {', '.join(found.boundaries)}: the threshold "
                "must be one of them."
            ]
    else:
        comments[("spec", "red")] = [
            "Metric names to adapt to your service: `perfdash check --prometheus-url URL`",
            "says whether they exist (or run `perfdash init --prometheus-url` to discover them).",
        ]
    spec: dict[str, Any] = {"selector": matcher_mapping(selector, default="=")}
    if red:
        spec["red"] = red
    spec["slos"] = slos
    data = {"apiVersion": "perfdash/v1", "kind": "Service", "metadata": metadata, "spec": spec}
    header = ("Written by `perfdash init`; yours to edit. Reference: perfdash schema, docs.",)
    return Assembled(scaffold.service, scaffold.team, data, comments, {}, header)
