"""Rule files in a folder Prometheus loads: plan, write atomically, reload, verify.

The build's ``alerts/rules/<service>.yaml`` become ``DIR/<service>.yaml``. Only files
perfdash recorded in ``DIR/.perfdash/manifest.json`` and that still hold what it wrote
are ever replaced or, with ``--prune``, removed; any other file of the same name is a
conflict and left alone. Each file is written atomically (``perfdash.output``).

With ``--prometheus-url``, apply then asks Prometheus to reload (``POST /-/reload``,
which needs ``--web.enable-lifecycle``) and reads ``/api/v1/rules``: every generated
group must be loaded from DIR. A refused reload is reported with ``promtool check
rules`` output for the files, since Prometheus only logs the details. When nothing
changed but a group is missing (a previous reload failed), apply reloads anyway.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import yaml

from perfdash import conventions
from perfdash.deploy.http import HttpClient, Limits, RetryPolicy
from perfdash.deploy.outcome import Outcome
from perfdash.deploy.settings import Endpoint
from perfdash.errors import BODY_EXCERPT_CHARS, OutputError, PerfdashError, PrometheusError
from perfdash.output import MANIFEST_PATH, Entry, Manifest, read_manifest, write_file
from perfdash.output.manifest import digest

DIFF_LINES = 40


class _LoadedGroup(msgspec.Struct):
    name: str
    file: str = ""


class _LoadedGroups(msgspec.Struct):
    groups: list[_LoadedGroup] = msgspec.field(default_factory=list)


class _RulesAnswer(msgspec.Struct):
    """What perfdash reads of ``GET /api/v1/rules``."""

    data: _LoadedGroups


@dataclass(frozen=True)
class FileChange:
    action: str  # create, update, delete, conflict
    name: str
    text: str | None = field(default=None, repr=False)
    diff: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class RulesDirPlan:
    directory: Path
    changes: tuple[FileChange, ...] = ()
    unchanged: int = 0
    prune: bool = False
    groups: Mapping[str, str] = field(default_factory=dict)  # group name -> file name
    # Files already holding what perfdash generates but not yet in the folder's manifest
    # (written by an older perfdash): recorded as perfdash's at the next apply.
    adopted: Mapping[str, str] = field(default_factory=dict)  # file name -> SHA-256

    @property
    def has_changes(self) -> bool:
        return any(c.action != "delete" or self.prune for c in self.changes)


@dataclass(frozen=True)
class ExistingFile:
    text: str = field(repr=False)
    generated: bool


def desired_rule_files(artifacts: Mapping[str, str]) -> dict[str, str]:
    """``{file name: YAML}`` of the generated Prometheus rule files."""
    prefix = conventions.RULES_DIR + "/"
    return {
        path.removeprefix(prefix): text
        for path, text in sorted(artifacts.items())
        if path.startswith(prefix) and "/" not in path.removeprefix(prefix)
    }


def read_rules_dir(directory: Path) -> dict[str, ExistingFile]:
    """The YAML files directly in ``directory`` (none when it does not exist yet)."""
    if not directory.is_dir():
        return {}
    manifest = read_manifest(directory) or Manifest()
    found = {}
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.suffix in (".yaml", ".yml") and not path.name.startswith("."):
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise OutputError(f"cannot read {path}: {exc.strerror}") from exc
            listed = manifest.files.get(path.name)
            generated = listed is not None and listed.sha256 == digest(data)
            # perfdash writes UTF-8: a file that is not is someone else's, shown as it is
            found[path.name] = ExistingFile(data.decode("utf-8", errors="replace"), generated)
    return found


def plan_rules_dir(
    desired: Mapping[str, str],
    existing: Mapping[str, ExistingFile],
    *,
    directory: Path,
    prune: bool = False,
) -> RulesDirPlan:
    groups = _groups(desired)  # first: two groups of one name are refused before anything
    changes: list[FileChange] = []
    unchanged = 0
    adopted = {}
    for name, text in desired.items():
        current = existing.get(name)
        if current is None:
            changes.append(FileChange("create", name, text))
        elif current.text == text:
            unchanged += 1
            if not current.generated:
                adopted[name] = digest(text.encode("utf-8"))
        elif not current.generated:
            changes.append(
                FileChange(
                    "conflict",
                    name,
                    reason=f"{directory / name} exists and was not written by perfdash: "
                    "left alone; move it away to let perfdash manage it",
                )
            )
        else:
            changes.append(FileChange("update", name, text, _text_diff(current.text, text, name)))
    for name, current in existing.items():
        if name not in desired and current.generated:
            changes.append(FileChange("delete", name, reason="no longer generated"))
    order = ("delete", "create", "update", "conflict")
    changes.sort(key=lambda c: (order.index(c.action), c.name))
    return RulesDirPlan(directory, tuple(changes), unchanged, prune, groups, adopted)


def desired_groups(desired: Mapping[str, str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every generated rule group by name, with its file. Two groups of one name are
    refused: a ruler namespace holds one group per name, Prometheus one per file, and
    perfdash checks what loaded by name, so one of them would silently go missing."""
    groups: dict[str, tuple[str, dict[str, Any]]] = {}
    for file, text in desired.items():
        document = yaml.safe_load(text)
        for group in document.get("groups") or [] if isinstance(document, dict) else []:
            name = str(group["name"])
            if name in groups:
                first = groups[name][0]
                where = f"{first} and {file}" if first != file else f"{file}, twice"
                raise OutputError(
                    f"rule group {name!r} is generated twice ({where}): one would silently "
                    "replace the other where the rules run; give the services or SLOs "
                    "names that do not run together into the same group name"
                )
            groups[name] = (file, group)
    return groups


def _groups(desired: Mapping[str, str]) -> dict[str, str]:
    return {name: file for name, (file, _) in desired_groups(desired).items()}


def _text_diff(old: str, new: str, name: str) -> tuple[str, ...]:
    lines = list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), f"live/{name}", f"generated/{name}", lineterm=""
        )
    )
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], f"... and {len(lines) - DIFF_LINES} more diff lines"]
    return tuple(lines)


def apply_rules_dir(plan: RulesDirPlan, *, prometheus: HttpClient | None) -> list[Outcome]:
    """Write and remove files as planned, record them in the folder's manifest, then
    reload Prometheus and check the groups."""
    outcomes: list[Outcome] = []
    where = str(plan.directory)
    recorded = dict((read_manifest(plan.directory) or Manifest()).files)
    recorded.update((name, Entry(sha)) for name, sha in plan.adopted.items())
    touched = False
    for change in plan.changes:
        if change.action == "conflict":
            outcomes.append(
                Outcome("rule_file", "conflict", change.name, where, change.reason, conflict=True)
            )
            continue
        if change.action == "delete" and not plan.prune:
            continue
        try:
            if change.action == "delete":
                (plan.directory / change.name).unlink(missing_ok=True)
                recorded.pop(change.name, None)
            else:
                assert change.text is not None
                write_file(plan.directory / change.name, change.text)
                recorded[change.name] = Entry(digest(change.text.encode("utf-8")))
        except (OutputError, OSError) as exc:
            outcomes.append(Outcome("rule_file", change.action, change.name, where, str(exc)))
            continue
        touched = True
        outcomes.append(Outcome("rule_file", change.action, change.name, where))
    if touched or plan.adopted:
        write_file(plan.directory / MANIFEST_PATH, Manifest(recorded, ("rules",)).render())
    if prometheus is not None:
        outcomes += reload_and_check(prometheus, plan, reload=touched)
    return outcomes


def reload_and_check(prometheus: HttpClient, plan: RulesDirPlan, *, reload: bool) -> list[Outcome]:
    outcomes: list[Outcome] = []
    url = prometheus.base_url
    if not reload and not _missing(prometheus, plan):
        return outcomes
    try:
        prometheus.request("POST", "/-/reload")
    except PrometheusError as exc:
        detail = _promtool_details(plan)
        return [Outcome("prometheus", "reload", url, error=f"{exc}{detail}")]
    outcomes.append(Outcome("prometheus", "reload", url))
    try:
        missing = _missing(prometheus, plan)
    except PerfdashError as exc:
        return [*outcomes, Outcome("prometheus", "check", url, error=str(exc))]
    if missing:
        outcomes.append(
            Outcome(
                "prometheus",
                "check",
                url,
                error=f"{_describe_missing(missing, plan)}; is "
                f"{plan.directory}/*.yaml in rule_files of prometheus.yml?",
            )
        )
    return outcomes


def _describe_missing(missing: list[str], plan: RulesDirPlan, shown: int = 5) -> str:
    """Name the files whose groups did not load; a fleet has three groups per SLO, so files
    (a handful) read better than groups (thousands when the folder is not loaded at all)."""
    files = sorted({plan.groups[group] for group in missing})
    listed = ", ".join(files[:shown])
    if len(files) > shown:
        listed += f" and {len(files) - shown} more"
    groups = "rule group" if len(missing) == 1 else "rule groups"
    return f"{len(missing)} {groups} not loaded from {plan.directory}: {listed}"


def _missing(prometheus: HttpClient, plan: RulesDirPlan) -> list[str]:
    """Generated groups Prometheus has not loaded from the planned folder."""
    answer: _RulesAnswer = prometheus.decode(
        prometheus.request("GET", "/api/v1/rules"), _RulesAnswer, "Prometheus' rules"
    )
    loaded = {(g.name, Path(g.file).name) for g in answer.data.groups}
    return sorted(group for group, file in plan.groups.items() if (group, file) not in loaded)


def _promtool_details(plan: RulesDirPlan) -> str:
    from perfdash.prometheus import promtool

    # Every rule file there, perfdash's or not: any of them can make a reload fail.
    files = sorted(plan.directory / name for name in read_rules_dir(plan.directory))
    if not files:
        return ""
    try:
        run = promtool.run(["check", "rules", *map(str, files)])
    except PerfdashError as exc:
        return f"\n  (promtool would say why, but: {exc})"
    lines = [line for line in run.output.splitlines() if line.strip()]
    return "\n  promtool check rules:\n" + "\n".join(f"    {line}" for line in lines)


def prometheus_error(
    method: str, url: str, status: int | None, body: str, cause: str
) -> PrometheusError:
    """The error of a failed request to Prometheus (reload, rules API)."""
    if status is None:
        return PrometheusError(method, url, status=None, detail=f"cannot reach Prometheus: {cause}")
    if cause:
        return PrometheusError(method, url, status=status, body=body, detail=cause)
    detail = first_line(body) or f"HTTP {status}"
    if status == 403 and url.endswith("/-/reload"):
        detail = "reload is disabled: start Prometheus with --web.enable-lifecycle"
    return PrometheusError(method, url, status=status, body=body, detail=detail)


def first_line(body: str) -> str:
    """The first line of a server's answer, cut to ``BODY_EXCERPT_CHARS``."""
    text = body.strip().splitlines()[0].strip() if body.strip() else ""
    return text if len(text) <= BODY_EXCERPT_CHARS else text[: BODY_EXCERPT_CHARS - 3] + "..."


def prometheus_client(
    endpoint: Endpoint,
    *,
    transport: Any = None,
    retry: RetryPolicy | None = None,
    limits: Limits | None = None,
) -> HttpClient:
    auth = None
    if endpoint.user is not None and endpoint.password is not None:
        auth = (endpoint.user, endpoint.password.reveal())
    return HttpClient(
        endpoint.url,
        error=prometheus_error,
        auth=auth,
        transport=transport,
        retry=retry,
        limits=limits,
    )
