"""Screenshots of preview pages with headless Chromium (Debian's ``chromium``).

Chromium runs from an argument list with a fresh profile folder, no network chatter
(background networking, component updates, sync and QUIC off: this machine's closed
network refuses them) and a timeout; a missing binary or a failed run is an
``ToolError`` that says what to install or shows Chromium's output.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from perfdash.errors import ToolError, ToolNotFound
from perfdash.process import run_tool

TIMEOUT_SECONDS = 120.0
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # root in CI containers; the page is our own file
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str:
    configured = os.environ.get("PERFDASH_CHROMIUM")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise ToolNotFound(f"PERFDASH_CHROMIUM={configured} is not an executable file")
        return configured
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ToolNotFound(
        "chromium not found on PATH; install it (Debian/Ubuntu: apt-get install chromium) "
        "or set PERFDASH_CHROMIUM to a Chromium or Chrome binary"
    )


def screenshot(page: Path, png: Path, *, width: int, height: int) -> None:
    """A PNG of ``page`` (a local HTML file) as a ``width`` x ``height`` window shows it."""
    binary = find_chromium()
    with tempfile.TemporaryDirectory(prefix="perfdash-chromium-") as profile:
        command = [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            page.resolve().as_uri(),
        ]
        done = run_tool(command, timeout=TIMEOUT_SECONDS)
    if done.returncode != 0 or not png.is_file():
        output = "\n".join("    " + line for line in (done.stdout + done.stderr).splitlines()[-20:])
        raise ToolError(
            f"chromium could not take a screenshot of {page} (exit status {done.returncode}):\n{output}"
        )
