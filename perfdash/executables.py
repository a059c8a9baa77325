"""Finding the external programs perfdash runs (promtool, amtool)."""

from __future__ import annotations

import os
import shutil

from perfdash.errors import PerfdashError


def find_executable(name: str, *, env_var: str, package: str, error: type[PerfdashError]) -> str:
    """``$env_var`` if set, else ``name`` on PATH; absolute, since tools may run in another
    working directory. Raises ``error`` saying how to install or point at it."""
    configured = os.environ.get(env_var)
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise error(f"{env_var}={configured} is not an executable file")
        return os.path.abspath(configured)
    found = shutil.which(name)
    if not found:
        raise error(
            f"{name} not found on PATH; install it (Debian/Ubuntu: apt-get install {package}) "
            f"or set {env_var} to its path"
        )
    return os.path.abspath(found)
