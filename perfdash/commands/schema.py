"""``perfdash schema``: the JSON Schema of perfdash/v1 declarations."""

from __future__ import annotations

import click

from perfdash.commands.options import EXIT_CODES_HELP


@click.command(epilog=EXIT_CODES_HELP)
def schema() -> None:
    """Print the JSON Schema of perfdash/v1 declarations.

    Editors validate and complete declarations with it: save it and add
    `# yaml-language-server: $schema=perfdash-v1.schema.json` on top of each file.

    \b
    Example:
      perfdash schema > perfdash-v1.schema.json
    """
    from perfdash.spec.schema import schema_text

    click.echo(schema_text(), nl=False)
