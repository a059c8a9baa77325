"""What a preview page inlines so that it opens offline: uPlot and perfdash's own script.

uPlot (MIT, the library Grafana's time series panel draws with) is an npm package, never
copied into this repository. It is looked for, in order:

1. ``$PERFDASH_UPLOT_DIR``: a folder holding the package (``dist/uPlot.iife.min.js``);
2. ``perfdash/preview/vendor/uplot``: where a wheel build puts it
   (``scripts/vendor-uplot.sh`` installs it from npm with the locked version first);
3. ``node_modules/uplot`` of a perfdash checkout (``make setup`` runs ``npm ci``);
4. ``~/.cache/perfdash/node_modules/uplot`` (``npm install --prefix ~/.cache/perfdash uplot``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from perfdash.errors import ToolNotFound

UPLOT_VERSION = "1.6.32"  # package.json and package-lock.json pin the same
_SCRIPT = "dist/uPlot.iife.min.js"
_STYLE = "dist/uPlot.min.css"


@dataclass(frozen=True)
class Assets:
    uplot_js: str
    uplot_css: str
    uplot_version: str
    preview_js: str
    preview_css: str


def uplot_candidates() -> list[Path]:
    out = []
    configured = os.environ.get("PERFDASH_UPLOT_DIR")
    if configured:
        out.append(Path(configured))
    package = Path(__file__).resolve().parent
    out.append(package / "vendor" / "uplot")
    out.append(package.parents[1] / "node_modules" / "uplot")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    out.append(cache / "perfdash" / "node_modules" / "uplot")
    return out


def find_uplot() -> Path:
    candidates = uplot_candidates()
    for folder in candidates:
        if (folder / _SCRIPT).is_file() and (folder / _STYLE).is_file():
            return folder
    if os.environ.get("PERFDASH_UPLOT_DIR"):
        raise ToolNotFound(
            f"PERFDASH_UPLOT_DIR={candidates[0]} holds no {_SCRIPT} (the npm package uplot)"
        )
    raise ToolNotFound(
        "uPlot (npm package uplot) is not installed: in a perfdash checkout run `make setup` "
        f"(npm ci), else `npm install --prefix ~/.cache/perfdash uplot@{UPLOT_VERSION}`, "
        "or set PERFDASH_UPLOT_DIR to the package's folder"
    )


@lru_cache(maxsize=1)
def load_assets() -> Assets:
    folder = find_uplot()
    try:
        version = json.loads((folder / "package.json").read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        version = "unknown"
    static = resources.files("perfdash.preview") / "static"
    return Assets(
        uplot_js=(folder / _SCRIPT).read_text(encoding="utf-8"),
        uplot_css=(folder / _STYLE).read_text(encoding="utf-8"),
        uplot_version=str(version),
        preview_js=(static / "preview.js").read_text(encoding="utf-8"),
        preview_css=(static / "preview.css").read_text(encoding="utf-8"),
    )
