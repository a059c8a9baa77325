"""Declarations: find and load YAML with positions, check them, map them to the model.

files.py       which files are declarations; reading them safely
load.py        YAML -> documents that remember positions (document.py)
schema.py      the perfdash/v1 JSON Schema (perfdash-v1.schema.json)
mapping.py     documents -> the model (raw PromQL checks in raw_queries.py)
checks.py      what needs the model: alerts that never fire, alert templates as
               Prometheus reads them (go_template.py)
fleet.py       all of it over a fleet, and the checks across documents

Loading knows nothing of perfdash/v1 beyond YAML; mapping knows nothing of files. An
importer (Sloth, Pyrra, OpenSLO: a future ``spec/importers/``) translates its documents
into perfdash/v1 ones between the two, and they get the same checks and messages.
"""

from perfdash.spec.fleet import MissingRunbook, build_fleet, load_fleet

__all__ = ["MissingRunbook", "build_fleet", "load_fleet"]
