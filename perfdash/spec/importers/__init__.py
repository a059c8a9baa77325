"""Importers: Sloth, Pyrra and OpenSLO files into perfdash/v1 declarations.

Each format has a module with a cheap ``detect(document)`` and ``translate(documents,
translation)``; ``convert.import_declarations`` runs one and validates what it made
exactly as ``perfdash validate`` does.
"""

from perfdash.spec.importers.convert import (
    FORMATS,
    ImportedFile,
    ImportResult,
    explain_text,
    import_declarations,
)
from perfdash.spec.importers.draft import Change
from perfdash.spec.importers.translation import ImportOptions

__all__ = [
    "FORMATS",
    "Change",
    "ImportOptions",
    "ImportResult",
    "ImportedFile",
    "explain_text",
    "import_declarations",
]
