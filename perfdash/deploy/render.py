"""A deploy plan as text (terminals), Markdown (a PR comment) or JSON (machines), and
an apply report as text. Pure: strings in, strings out.

Names, titles, notes and diffs quote servers and declarations: every ``Row`` holds
them as one line each (``perfdash.terminal.one_line``), so a title cannot add lines of
its own to a plan, and Markdown escapes them so that they cannot add table cells,
HTML, or end a code block. The CLI escapes control characters in all it prints.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace

from perfdash.deploy.grafana_plan import Action
from perfdash.deploy.outcome import ApplyReport
from perfdash.deploy.run import DeployPlan
from perfdash.terminal import one_line

SYMBOLS = {
    "delete": "-",
    "create": "+",
    "update": "~",
    "move": ">",
    "drift": "!",
    "conflict": "x",
}
ACTION_ORDER = tuple(SYMBOLS)
MARKDOWN_MARKER = "<!-- perfdash-plan -->"
PAST = {
    "create": "created",
    "update": "updated",
    "move": "moved",
    "delete": "deleted",
    "reload": "reloaded",
}


@dataclass(frozen=True)
class Row:
    """One planned change of any target, as every rendering shows it."""

    target: str  # grafana, rules_dir, ruler
    action: str
    kind: str  # folder, dashboard, rule_file, rule_group
    name: str
    where: str
    note: str = ""
    diff: tuple[str, ...] = ()
    runs: bool = True  # apply will do it (a prune candidate without --prune will not)


def plan_rows(deploy: DeployPlan) -> list[Row]:
    return [
        replace(
            row,
            name=one_line(row.name),
            where=one_line(row.where),
            note=one_line(row.note),
            diff=tuple(one_line(line) for line in row.diff),
        )
        for row in _rows(deploy)
    ]


def _rows(deploy: DeployPlan) -> list[Row]:
    rows: list[Row] = []
    grafana = deploy.grafana
    if grafana is not None:
        for change in grafana.dashboards:
            if not change.prune:
                continue
            note = (
                _prune_note(change.title, grafana.prune)
                if change.action is Action.DELETE
                else change.reason
            )
            rows.append(
                Row(
                    "grafana",
                    change.action.value,
                    "dashboard",
                    change.uid,
                    change.folder,
                    note,
                    runs=grafana.prune,
                )
            )
        for folder in grafana.folders:
            rows.append(Row("grafana", "create", "folder", folder.uid, folder.title))
        for conflict in grafana.folder_conflicts:
            rows.append(
                Row(
                    "grafana",
                    "conflict",
                    "folder",
                    conflict.title,
                    f"uid {conflict.uid}",
                    conflict.reason,
                )
            )
        for change in grafana.dashboards:
            if change.prune:
                continue
            where = change.folder
            if change.from_folder is not None:
                where = f"{change.from_folder} -> {change.folder}"
            note = change.reason or change.title
            rows.append(
                Row(
                    "grafana",
                    change.action.value,
                    "dashboard",
                    change.uid,
                    where,
                    note,
                    change.diff,
                )
            )
    files = deploy.rules_dir
    if files is not None:
        for file in files.changes:
            runs = file.action != "delete" or files.prune
            note = _prune_note("", files.prune) if file.action == "delete" else file.reason
            rows.append(
                Row(
                    "rules_dir",
                    file.action,
                    "rule_file",
                    file.name,
                    str(files.directory),
                    note,
                    file.diff,
                    runs,
                )
            )
    ruler = deploy.ruler
    if ruler is not None:
        for group in ruler.changes:
            runs = group.action != "delete" or ruler.prune
            note = _prune_note("", ruler.prune) if group.action == "delete" else ""
            rows.append(
                Row(
                    "ruler",
                    group.action,
                    "rule_group",
                    group.name,
                    ruler.namespace,
                    note,
                    group.diff,
                    runs,
                )
            )
    return rows


def _prune_note(title: str, prune: bool) -> str:
    text = "no longer generated" + (f": {title!r}" if title else "")
    return text if prune else f"{text} (prune candidate: apply --prune deletes it)"


def _headers(deploy: DeployPlan) -> dict[str, str]:
    headers = {}
    if deploy.grafana is not None:
        headers["grafana"] = f"Grafana {deploy.grafana_url}"
    if deploy.rules_dir is not None:
        headers["rules_dir"] = f"Rules folder {deploy.rules_dir.directory}"
    if deploy.ruler is not None:
        headers["ruler"] = f"Ruler {deploy.ruler.url} (namespace {deploy.ruler.namespace})"
    return headers


def _unchanged(deploy: DeployPlan, target: str) -> int:
    part = {"grafana": deploy.grafana, "rules_dir": deploy.rules_dir, "ruler": deploy.ruler}[target]
    return part.unchanged if part is not None else 0


def summary(rows: Iterable[Row]) -> str:
    counted: dict[str, int] = {}
    candidates = 0
    for row in rows:
        if row.runs:
            counted[row.action] = counted.get(row.action, 0) + 1
        else:
            candidates += 1
    parts = [f"{counted[a]} to {a}" for a in ("create", "update", "move", "delete") if a in counted]
    if "drift" in counted:
        parts.append(f"{counted['drift']} drifted (kept unless --force)")
    if "conflict" in counted:
        parts.append(f"{counted['conflict']} conflict{'s' if counted['conflict'] > 1 else ''}")
    if candidates:
        parts.append(f"{candidates} prune candidate{'s' if candidates > 1 else ''}")
    return ", ".join(parts) if parts else "no changes"


def plan_text(deploy: DeployPlan) -> str:
    rows = plan_rows(deploy)
    lines: list[str] = []
    for target, header in _headers(deploy).items():
        mine = [r for r in rows if r.target == target]
        lines.append(f"{header}: {summary(mine)}; {_unchanged(deploy, target)} unchanged")
        width = max((len(r.kind) for r in mine), default=0)
        for row in mine:
            note = f"  {row.note}" if row.note else ""
            lines.append(
                f"  {SYMBOLS[row.action]} {row.action:<8} {row.kind.replace('_', ' '):<{width}} "
                f"{row.name} ({row.where}){note}"
            )
            lines += [f"      {line}" for line in row.diff]
        lines.append("")
    changes = [r for r in rows if r.runs]
    lines.append(
        f"Plan: {summary(rows)}." if changes else "No changes: the targets match the declarations."
    )
    return "\n".join(lines)


def plan_markdown(deploy: DeployPlan) -> str:
    rows = plan_rows(deploy)
    lines = [MARKDOWN_MARKER, "### perfdash plan", ""]
    lines.append(f"**{summary(rows)}**" if any(r.runs for r in rows) else "**No changes.**")
    for target, header in _headers(deploy).items():
        mine = [r for r in rows if r.target == target]
        lines += [
            "",
            f"#### {header}",
            "",
            f"{summary(mine)}; {_unchanged(deploy, target)} unchanged",
        ]
        if not mine:
            continue
        lines += ["", "| | action | kind | name | where | note |", "|---|---|---|---|---|---|"]
        for row in mine:
            lines.append(
                f"| {SYMBOLS[row.action]} | {row.action} | {row.kind.replace('_', ' ')} | "
                f"{_code(row.name)} | {_cell(row.where)} | {_cell(row.note)} |"
            )
        for row in mine:
            if row.diff:
                fence = _fence(row.diff)
                lines += [
                    "",
                    f"<details><summary>{row.action} <code>{html.escape(row.name)}</code>: "
                    f"{len(row.diff)} line{'s' if len(row.diff) > 1 else ''} of diff</summary>",
                    "",
                    f"{fence}diff",
                    *row.diff,
                    fence,
                    "",
                    "</details>",
                ]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text for a table cell: no cell breaks, no HTML, no line breaks."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    """``text`` as inline code in a table cell, whatever backticks it holds."""
    ticks = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    escaped = text.replace("|", "\\|")  # HTML is inert in code: only cell breaks
    return f"{ticks}{pad}{escaped}{pad}{ticks}"


def _fence(lines: Iterable[str]) -> str:
    """A code fence longer than any run of backticks in ``lines``."""
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    return "`" * max(3, longest + 1)


def plan_json(deploy: DeployPlan) -> str:
    rows = plan_rows(deploy)
    document = {
        "changes": any(r.runs for r in rows),
        "summary": summary(rows),
        "targets": {
            target: {"name": header, "unchanged": _unchanged(deploy, target)}
            for target, header in _headers(deploy).items()
        },
        "items": [{**asdict(r), "diff": list(r.diff)} for r in rows],
    }
    return json.dumps(document, indent=2, sort_keys=True)


def report_text(report: ApplyReport) -> str:
    lines = []
    for outcome in report.applied:
        lines.append(f"  {outcome.action:<8} {outcome.describe()}")
    counted = report.counts()
    done = ", ".join(
        f"{n} {past}"
        for action, past in PAST.items()
        if (n := sum(v for (_, a), v in counted.items() if a == action))
    )
    tail = f"Applied: {done or 'nothing'}"
    if report.failed:
        tail += f"; {len(report.failed)} failed"
    lines.append(tail + ".")
    return "\n".join(lines)
