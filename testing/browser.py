"""Headless Chromium driven by Playwright, for tests and benchmarks of preview pages.

Playwright's Python package drives Debian's ``/usr/bin/chromium`` (``executable_path``):
its own browser download cannot run here and is never used. Every console error and
uncaught page error is collected, so a test can assert that a page loaded cleanly.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1640, "height": 1000}


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class LoadedPage:
    """A page and what the browser said while loading and using it."""

    page: Any  # playwright.sync_api.Page
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


class Browser:
    """One Chromium for many pages; ``open`` loads a local file and waits until the
    preview script says it rendered (``<body data-rendered="true">``)."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    def open(self, path: Path, *, viewport: dict[str, int] | None = None) -> LoadedPage:
        page = self._browser.new_page(viewport=viewport or VIEWPORT)
        loaded = LoadedPage(page)
        page.on(
            "console",
            lambda message: (
                loaded.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: loaded.console_errors.append(str(error)))
        page.on("request", lambda request: loaded.requests.append(request.url))
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.wait_for_selector("body[data-rendered='true']", timeout=30_000)
        return loaded


@contextmanager
def chromium(executable: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
        try:
            yield Browser(browser)
        finally:
            browser.close()


def distinct_colours(png: bytes) -> int:
    """How many distinct RGB colours a PNG holds (a blank plot area has one or two)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24)
    return len(colours or ())
