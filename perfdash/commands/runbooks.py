"""``perfdash runbooks``: Markdown runbook stubs for services that have none."""

from __future__ import annotations

from pathlib import Path

import click

from perfdash.commands.options import EXIT_CODES_HELP, echo, load_declarations, paths_argument


@click.command(epilog=EXIT_CODES_HELP)
@paths_argument
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("docs/runbooks"),
    show_default=True,
    help="Folder of runbooks: <service>.md stubs are written here when missing.",
)
@click.option(
    "--template",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Your own Jinja2 template (default: perfdash's; see perfdash/templates/).",
)
@click.option("--grafana-url", default="", help="Grafana base URL, for absolute dashboard links.")
def runbooks(
    paths: tuple[Path, ...], out_dir: Path, template: Path | None, grafana_url: str
) -> None:
    """Write a Markdown runbook stub for every service that has none yet.

    Each SLO gets a section (its name is the anchor alerts link to) with the objective,
    budget, alert table and first queries. Existing files are never overwritten.

    \b
    Example:
      perfdash runbooks --out docs/runbooks --grafana-url https://grafana.example.com
    """
    from perfdash.output import write_file
    from perfdash.runbooks import plan_runbooks

    existing = {p.name for p in out_dir.glob("*.md")} if out_dir.is_dir() else set()
    plan = plan_runbooks(
        load_declarations(paths, missing_runbook="warn"),
        existing,
        template=template.read_text(encoding="utf-8") if template else None,
        template_name=str(template or "runbook.md.j2"),
        grafana_url=grafana_url,
    )
    for name, text in plan.written.items():
        write_file(out_dir / name, text)
        echo(f"wrote {out_dir / name}")
    for name in plan.kept:
        echo(f"kept {out_dir / name} (exists)")
