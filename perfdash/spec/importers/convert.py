"""``perfdash import``: foreign files -> perfdash/v1 declarations, validated like any other.

1. The files are read with positions (``perfdash.spec.load``); each document must be of
   the chosen format (``detect``).
2. The importer translates them into ``ServiceDraft``s; what cannot map is a problem at
   its FILE:LINE:COL, every one reported at once.
3. Drafts of one service (Pyrra has one file per SLO) are merged, completed (team, tier,
   runbook) and rendered as YAML.
4. The YAML is loaded and validated exactly as ``perfdash validate`` would (with the
   Teams already declared in the output folder); a problem is reported at the field of
   the imported file it came from.

Nothing is written here: ``ImportResult`` holds the files, the command writes them.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import ModuleType

from perfdash.durations import Duration
from perfdash.errors import Problem, SpecError
from perfdash.model.windows import DEFAULT_POLICY
from perfdash.spec.document import Document, PathKey, format_path
from perfdash.spec.files import declaration_candidates
from perfdash.spec.fleet import MissingRunbook, build_fleet
from perfdash.spec.importers import emit, openslo, pyrra, sloth
from perfdash.spec.importers.draft import (
    Assembled,
    Change,
    Origin,
    ServiceDraft,
    SLODraft,
    assemble,
)
from perfdash.spec.importers.translation import ImportOptions, Translation, slug
from perfdash.spec.load import load_candidates, load_paths, load_text

FORMATS: dict[str, ModuleType] = {"sloth": sloth, "pyrra": pyrra, "openslo": openslo}
DEFAULT_TIER = 2
SCHEMA_PATH = Path("docs") / "perfdash-v1.schema.json"


@dataclass(frozen=True)
class ImportedFile:
    path: Path  # where it goes: <out>/<team>/<service>.yaml
    text: str
    service: str
    exists: bool  # a file is there already (replaced only with --force)


@dataclass(frozen=True)
class ImportResult:
    files: tuple[ImportedFile, ...]
    changes: tuple[Change, ...]


def import_declarations(
    source: str,
    paths: Sequence[str | os.PathLike[str]],
    *,
    out_dir: Path,
    options: ImportOptions,
    root: Path | None = None,
    missing_runbook: MissingRunbook = "error",
    force: bool = False,
) -> ImportResult:
    """Translate ``paths`` (files and folders of ``source`` documents) into perfdash/v1
    files under ``out_dir``. Raises SpecError with every problem, located in the input."""
    importer = FORMATS[source]
    documents = load_paths(paths, root=root)
    t = Translation(options)
    mine = []
    for document in documents:
        if importer.detect(document):
            mine.append(document)
        else:
            t.problems.append(_foreign(document, source))
    drafts = _merge(importer.translate(mine, t), t)
    if not documents:
        raise SpecError([Problem(str(p), 0, 0, "", "no YAML files found") for p in paths])
    if t.problems:
        raise SpecError(t.problems)
    assembled = [_complete(draft, importer.TITLE, t) for draft in drafts]
    if t.problems:
        raise SpecError(t.problems)
    files = [_file(item, out_dir) for item in assembled if item is not None]
    _check_collisions(files, out_dir, force=force, t=t)
    if t.problems:
        raise SpecError(t.problems)
    _validate(files, [a for a in assembled if a is not None], out_dir, missing_runbook)
    return ImportResult(tuple(files), tuple(t.changes))


def _foreign(document: Document, source: str) -> Problem:
    start = document.start
    importer = FORMATS[source]
    message = f"not a {importer.TITLE} document: expected {importer.EXPECTED}"
    for name, other in FORMATS.items():
        if name != source and other.detect(document):
            message += f"; this is {other.TITLE}: `perfdash import {name}`"
    if isinstance(document.data, dict) and document.data.get("apiVersion") == "perfdash/v1":
        message += "; this is already a perfdash declaration"
    return Problem(document.file, start.line, start.column, "", message)


def _merge(drafts: Iterable[ServiceDraft], t: Translation) -> list[ServiceDraft]:
    """One draft per service name: SLOs of the same service from several files join."""
    merged: dict[str, ServiceDraft] = {}
    for draft in drafts:
        into = merged.get(draft.name)
        if into is None:
            merged[draft.name] = draft
            continue
        seen = {slo.name: slo for slo in into.slos}
        for slo in draft.slos:
            if slo.name in seen:
                first = seen[slo.name].origin
                t.problems.append(
                    slo.origin.problem(
                        f"SLO {slo.name!r} of service {draft.name!r} is declared twice "
                        f"(first at {first.file}:{first.line})"
                    )
                )
                continue
            into.slos.append(slo)
        into.sources.extend(draft.sources)
        into.team = into.team or draft.team
        into.tier = into.tier or draft.tier
        into.runbook = into.runbook or draft.runbook
        into.labels = {**draft.labels, **into.labels}
        for path, origin in draft.origins.items():
            into.origins.setdefault(path, origin)
    return sorted(merged.values(), key=lambda d: d.name)


def _complete(draft: ServiceDraft, title: str, t: Translation) -> Assembled | None:
    options = t.options
    team = draft.team or slug(options.team or "")
    if not team:
        t.problems.append(
            draft.origin.problem(
                f"service {draft.name!r} has no team ({title} names none here): pass "
                "--team NAME (the Grafana folder and the alerts' team label)"
            )
        )
        return None
    tier = draft.tier or options.tier
    if tier is None:
        tier = DEFAULT_TIER
        draft.comment(
            ("metadata", "tier"),
            f"{title} has no tier: {DEFAULT_TIER} by default (perfdash import --tier); "
            "alerts get priority P<tier>",
        )
    for slo in draft.slos:
        _drop_dead_windows(draft.name, slo, title, t)
    runbook = draft.runbook or options.runbook
    if runbook and not draft.runbook:
        draft.comment(("metadata", "runbook"), "from perfdash import --runbook")
    return assemble(
        draft, team=team, tier=tier, runbook=runbook, series_prefix=options.series_prefix
    )


def _drop_dead_windows(service: str, slo: SLODraft, title: str, t: Translation) -> None:
    """Leave out the default alerts that can never fire (factor x budget >= 1, e.g. the
    fast page of a 90% SLO) or that look back further than the SLO window: perfdash
    refuses them, where the old tool generated rules that stay silent forever."""
    alerting = slo.alerting
    if "windows" in alerting:
        return
    window = Duration.parse(slo.window)
    budget = (Decimal(100) - slo.objective) / 100
    enabled = [w for w in DEFAULT_POLICY if alerting.get(w.severity) is not False]
    viable = [
        w for w in enabled if w.long <= window and w.burn_factor(window) * Fraction(budget) < 1
    ]
    if len(viable) == len(enabled) or budget <= 0:
        return
    dead = ", ".join(f"{w.severity} {w.long}/{w.short}" for w in enabled if w not in viable)
    if not viable:
        alerting["page"] = alerting["ticket"] = False
        slo.comment(
            ("alerting",), f"No burn-rate alert can fire at {slo.objective}% over {window}."
        )
    else:
        alerting["windows"] = [
            {
                "severity": w.severity,
                "long": str(w.long),
                "short": str(w.short),
                "budget_percent": w.budget_fraction * 100,
            }
            for w in viable
        ]
        slo.comment(
            ("alerting", "windows"),
            f"The default policy without {dead}: it could never fire at {slo.objective}%.",
        )
    t.change(
        service,
        slo.name,
        f"alerts {dead} left out: at {slo.objective}% they need an error ratio above 100% "
        f"(the {title} rule could never fire either)",
    )


def _file(assembled: Assembled, out_dir: Path) -> ImportedFile:
    path = out_dir / assembled.team / f"{assembled.name}.yaml"
    text = emit.render(assembled, modeline=_modeline(path))
    return ImportedFile(path, text, assembled.name, path.exists())


def _modeline(path: Path) -> str | None:
    """Relative path from ``path`` to the repository's docs/perfdash-v1.schema.json."""
    folder = path.parent.resolve()
    for candidate in (folder, *folder.parents):
        schema = candidate / SCHEMA_PATH
        if schema.is_file():
            return Path(os.path.relpath(schema, folder)).as_posix()
    return None


def _check_collisions(
    files: Sequence[ImportedFile], out_dir: Path, *, force: bool, t: Translation
) -> None:
    targets = {f.path.resolve() for f in files}
    existing = _existing_documents(out_dir, skip=targets)
    declared = {
        d.data["metadata"]["name"]: d
        for d in existing
        if isinstance(d.data, dict)
        and d.data.get("kind") == "Service"
        and isinstance(d.data.get("metadata"), dict)
    }
    for file in files:
        if file.exists and not force:
            t.problems.append(
                Problem(str(file.path), 0, 0, "", "exists: pass --force to replace it")
            )
        other = declared.get(file.service)
        if other is not None:
            where = other.position(("metadata", "name"))
            t.problems.append(
                Problem(
                    other.file,
                    where.line,
                    where.column,
                    "metadata.name",
                    f"service {file.service!r} is declared here already; the import would "
                    f"write it again to {file.path}",
                )
            )


def _existing_documents(out_dir: Path, *, skip: set[Path]) -> list[Document]:
    if not out_dir.is_dir():
        return []
    found = declaration_candidates([out_dir]).candidates
    # Files with problems are left out: `perfdash validate` reports those; the import is
    # not about them.
    documents, _ = load_candidates([c for c in found if c[0].resolve() not in skip])
    return documents


def _validate(
    files: Sequence[ImportedFile],
    assembled: Sequence[Assembled],
    out_dir: Path,
    missing_runbook: MissingRunbook,
) -> None:
    """Validate the new declarations with the Teams of the output folder, as
    ``perfdash validate`` will; problems point back into the imported files."""
    by_file = {str(f.path): a for f, a in zip(files, assembled, strict=True)}
    documents = [doc for f in files for doc in load_text(f.text, str(f.path))]
    targets = {f.path.resolve() for f in files}
    teams = [
        d
        for d in _existing_documents(out_dir, skip=targets)
        if isinstance(d.data, dict) and d.data.get("kind") == "Team"
    ]
    try:
        build_fleet([*documents, *teams], missing_runbook=missing_runbook)
    except SpecError as exc:
        raise SpecError([_located(p, by_file) for p in exc.problems]) from None


def _located(problem: Problem, by_file: dict[str, Assembled]) -> Problem:
    assembled = by_file.get(problem.file)
    if assembled is None:
        return problem
    origin = _origin(problem.field, assembled.origins) or assembled.origins.get(())
    message = problem.message + (f" (perfdash field {problem.field})" if problem.field else "")
    if problem.field == "metadata.runbook":
        message = (
            f"service {assembled.name!r} has alerts but no runbook URL: pass perfdash import "
            "--runbook URL (or --missing-runbook warn)"
        )
    if origin is None:
        return Problem(problem.file, 0, 0, problem.field, problem.message)
    return Problem(origin.file, origin.line, origin.column, origin.field, message)


def _origin(field: str, origins: Mapping[PathKey, Origin]) -> Origin | None:
    best: tuple[int, Origin] | None = None
    for path, origin in origins.items():
        text = format_path(path)
        matches = field == text or field.startswith((text + ".", text + "["))
        if matches and (best is None or len(text) > best[0]):
            best = (len(text), origin)
    return best[1] if best else None


def explain_text(changes: Sequence[Change]) -> str:
    """The behaviour changes, grouped by service and SLO, for ``--explain``."""
    if not changes:
        return "No change in behaviour found."
    lines: list[str] = []
    current = None
    for change in sorted(dict.fromkeys(changes), key=lambda c: (c.service, c.slo)):
        if change.service != current:
            if lines:
                lines.append("")
            lines.append(f"{change.service}:")
            current = change.service
        where = f"{change.slo}: " if change.slo else ""
        lines += textwrap.wrap(
            f"{where}{change.text}", width=100, initial_indent="  - ", subsequent_indent="    "
        )
    return "\n".join(lines)
