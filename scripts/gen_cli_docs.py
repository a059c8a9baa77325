"""Regenerate docs/cli.md from the commands' --help (tests/test_docs.py checks it is current).

    python scripts/gen_cli_docs.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perfdash.cli import cli  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def render() -> str:
    runner = CliRunner()
    parts = [
        "# perfdash command line\n\n",
        "Generated from `--help` by `python scripts/gen_cli_docs.py`; do not edit by hand.\n\n",
        "## perfdash\n\n```\n",
        runner.invoke(cli, ["--help"], prog_name="perfdash", terminal_width=100).stdout,
        "```\n",
    ]
    context = cli.make_context("perfdash", [], resilient_parsing=True)
    for name in cli.list_commands(context):
        result = runner.invoke(cli, [name, "--help"], prog_name="perfdash", terminal_width=100)
        parts += [f"\n## perfdash {name}\n\n```\n", result.stdout, "```\n"]
        group = cli.get_command(context, name)
        for sub in sorted(getattr(group, "commands", {})):  # a group's own commands
            result = runner.invoke(
                cli, [name, sub, "--help"], prog_name="perfdash", terminal_width=100
            )
            parts += [f"\n## perfdash {name} {sub}\n\n```\n", result.stdout, "```\n"]
    return "".join(parts)


if __name__ == "__main__":
    DOCS.write_text(render(), encoding="utf-8")
    print(f"wrote {DOCS}")
