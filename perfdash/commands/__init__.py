"""Command groups that live outside ``perfdash.cli``: one module per group, registered there."""
