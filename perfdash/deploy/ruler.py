"""Rule groups in a Mimir (or Cortex) ruler namespace: plan and apply, as for files.

The ruler API (Mimir's HTTP API reference, "Ruler"): ``GET
<prefix>/config/v1/rules/{namespace}`` lists a namespace's groups (404: none yet),
``POST`` of one group as YAML (``Content-Type: application/yaml``) creates or replaces
it (202), ``DELETE .../{namespace}/{group}`` removes one (202). The tenant goes in
``X-Scope-OrgID``. The prefix is ``/prometheus`` unless the URL already names
``.../config/v1/rules``.

Groups perfdash generates are named ``perfdash-<service>:<slo>[:long|:budget]``; only those are
ever deleted from the namespace, and only with ``--prune``. Two generated groups of one
name are refused (``desired_groups``): the namespace would keep only one of them. The
ruler's answer is read as YAML without aliases and checked for shape; names from it are
quoted (``path_segment``) before they go into a URL.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import yaml

from perfdash.deploy.http import Answer, HttpClient, Limits, RetryPolicy, path_segment
from perfdash.deploy.outcome import Outcome
from perfdash.deploy.rules_dir import desired_groups as _generated_groups
from perfdash.deploy.rules_dir import desired_rule_files, first_line
from perfdash.deploy.settings import RulerSettings
from perfdash.errors import PerfdashError, PrometheusError
from perfdash.yamlout import dump

RULES_PATH = "/config/v1/rules"
DEFAULT_PREFIX = "/prometheus"
GROUP_PREFIX = "perfdash-"
DIFF_LINES = 40


def ruler_error(
    method: str, url: str, status: int | None, body: str, cause: str
) -> PrometheusError:
    if status is None:
        return PrometheusError(method, url, status=None, detail=f"cannot reach the ruler: {cause}")
    if cause:
        return PrometheusError(method, url, status=status, body=body, detail=cause)
    text = first_line(body) or f"HTTP {status}"
    if status == 401:
        text = (
            f"the ruler refused the request ({text}): set --tenant (X-Scope-OrgID) or credentials"
        )
    return PrometheusError(method, url, status=status, body=body, detail=text)


class RulerClient:
    """A Mimir/Cortex ruler's rule-group API for one tenant."""

    def __init__(
        self,
        settings: RulerSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        concurrency: int = 8,
    ) -> None:
        base = settings.url.rstrip("/")
        self.rules_url = base if base.endswith(RULES_PATH) else base + DEFAULT_PREFIX + RULES_PATH
        headers = {"Accept": "application/yaml"}
        if settings.tenant:
            headers["X-Scope-OrgID"] = settings.tenant
        auth = None
        if settings.user and settings.password is not None:
            auth = (settings.user, settings.password.reveal())
        self.http = HttpClient(
            self.rules_url,
            error=ruler_error,
            headers=headers,
            auth=auth,
            limits=limits,
            concurrency=concurrency,
            retry=retry,
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def groups(self, namespace: str) -> list[dict[str, Any]]:
        """The namespace's groups (none when the ruler answers 404)."""
        answer = self.http.request("GET", f"/{path_segment(namespace)}", ok=(404,))
        if answer.status_code == 404:
            return []
        document = _load_answer(answer)
        if isinstance(document, dict) and "name" in document and "rules" in document:
            document = [document]  # a single group
        elif isinstance(document, dict):
            document = document.get(namespace) or []
        if document is None:
            return []
        if not isinstance(document, list) or not all(_is_group(g) for g in document):
            raise ruler_error(
                answer.method,
                answer.url,
                answer.status_code,
                answer.text,
                "unexpected answer: rule groups (each a mapping with a name and rules) expected",
            )
        return document

    def set_group(self, namespace: str, group: Mapping[str, Any]) -> None:
        self.http.request(
            "POST",
            f"/{path_segment(namespace)}",
            content=dump(dict(group)),
            headers={"Content-Type": "application/yaml"},
        )

    def delete_group(self, namespace: str, name: str) -> None:
        self.http.request("DELETE", f"/{path_segment(namespace)}/{path_segment(name)}", ok=(404,))


class _NoAliases(yaml.SafeLoader):
    """YAML from a server, without aliases (a few bytes of them expand without bound)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases are not accepted from a server", mark
            )
        return super().compose_node(parent, index)


def _load_answer(answer: Answer) -> Any:
    try:
        return yaml.load(answer.content, Loader=_NoAliases)
    except (yaml.YAMLError, RecursionError) as exc:
        detail = first_line(str(exc)) or type(exc).__name__
        raise ruler_error(
            answer.method,
            answer.url,
            answer.status_code,
            answer.text,
            f"unexpected answer: YAML rule groups expected ({detail})",
        ) from None


def _is_group(group: Any) -> bool:
    return (
        isinstance(group, dict)
        and isinstance(group.get("name"), str)
        and isinstance(group.get("rules"), list)
    )


@dataclass(frozen=True)
class GroupChange:
    action: str  # create, update, delete
    name: str
    group: Mapping[str, Any] | None = field(default=None, repr=False)
    diff: tuple[str, ...] = ()


@dataclass(frozen=True)
class RulerPlan:
    url: str
    namespace: str
    changes: tuple[GroupChange, ...] = ()
    unchanged: int = 0
    prune: bool = False

    @property
    def has_changes(self) -> bool:
        return any(c.action != "delete" or self.prune for c in self.changes)


def desired_groups(artifacts: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Every generated rule group by name, from the build's rule files; two groups of
    one name are an ``OutputError`` (the namespace would keep one)."""
    found = _generated_groups(desired_rule_files(artifacts))
    return {name: group for name, (_, group) in found.items()}


def plan_ruler(
    desired: Mapping[str, Mapping[str, Any]],
    live: Sequence[Mapping[str, Any]],
    *,
    url: str,
    namespace: str,
    prune: bool = False,
) -> RulerPlan:
    current = {str(g["name"]): g for g in live}
    changes: list[GroupChange] = []
    unchanged = 0
    for name, group in desired.items():
        if name not in current:
            changes.append(GroupChange("create", name, group))
        elif _normal(current[name]) != _normal(group):
            changes.append(GroupChange("update", name, group, _diff(current[name], group, name)))
        else:
            unchanged += 1
    for name in current:
        if name not in desired and name.startswith(GROUP_PREFIX):
            changes.append(GroupChange("delete", name))
    order = ("delete", "create", "update")
    changes.sort(key=lambda c: (order.index(c.action), c.name))
    return RulerPlan(url, namespace, tuple(changes), unchanged, prune)


def _normal(value: Any) -> Any:
    """Without null or empty values, which the ruler may leave out or fill in."""
    if isinstance(value, Mapping):
        return {k: _normal(v) for k, v in value.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_normal(item) for item in value]
    return value


def _diff(old: Mapping[str, Any], new: Mapping[str, Any], name: str) -> tuple[str, ...]:
    lines = list(
        difflib.unified_diff(
            dump(_normal(old)).splitlines(),
            dump(_normal(new)).splitlines(),
            f"ruler/{name}",
            f"generated/{name}",
            lineterm="",
        )
    )
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], f"... and {len(lines) - DIFF_LINES} more diff lines"]
    return tuple(lines)


def apply_ruler(plan: RulerPlan, client: RulerClient) -> list[Outcome]:
    work = [c for c in plan.changes if c.action != "delete" or plan.prune]

    def run(change: GroupChange) -> None:
        if change.action == "delete":
            client.delete_group(plan.namespace, change.name)
        else:
            assert change.group is not None
            client.set_group(plan.namespace, change.group)

    outcomes = []
    for change, result in zip(work, client.http.map(run, work), strict=True):
        error = str(result) if isinstance(result, PerfdashError) else ""
        outcomes.append(Outcome("rule_group", change.action, change.name, plan.namespace, error))
    return outcomes
