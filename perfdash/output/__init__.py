"""Write generated files into an output folder, or check it, touching only what
perfdash recorded as its own (``.perfdash/manifest.json``), all or nothing."""

from perfdash.output.commit import WriteReport, recover, write_file, write_plan
from perfdash.output.manifest import MANIFEST_PATH, Entry, Manifest, read_manifest
from perfdash.output.plan import Conflict, OutputPlan, plan_output

__all__ = [
    "MANIFEST_PATH",
    "Conflict",
    "Entry",
    "Manifest",
    "OutputPlan",
    "WriteReport",
    "plan_output",
    "read_manifest",
    "recover",
    "write_file",
    "write_plan",
]
