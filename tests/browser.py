"""Helpers of the browser tests: a page's server on a free local port, headless Chromium, offline.

The tests need Debian's ``chromium`` and Playwright (the ``test`` extra); without them they
are skipped with a message saying how to enable them. Every request the page makes to an
address other than this machine is blocked and recorded: the tests assert there is none
(the app must work with no internet).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


def screenshot_path(name: str, tmp_path: Path) -> Path:
    """Where a browser test saves its screenshot: docs/ when NORTHERN_ROUTE_SCREENSHOTS=docs
    (to refresh the pictures of the docs), otherwise the test's own folder: the suite writes
    nothing into the repository."""
    return (DOCS if os.environ.get("NORTHERN_ROUTE_SCREENSHOTS") == "docs" else tmp_path) / name
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOW_TO_ENABLE = ("headless Chromium is needed for the browser tests: install it with 'apt-get install -y chromium' "
                 "(as .ci/run does) and Playwright with pip install -e '.[test]'")
LOCAL = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "ws://localhost", "data:", "blob:", "about:")


def needs_chromium():
    """The skip mark of a browser test, with the way to enable it."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return pytest.mark.skip(reason=HOW_TO_ENABLE)
    return pytest.mark.skipif(CHROMIUM is None, reason=HOW_TO_ENABLE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(args: list[str], cwd: Path, start_timeout_s: float = 120) -> Iterator[str]:
    """``python -m sim <args> --port P --host 127.0.0.1`` until the block ends; yields its address."""
    port = free_port()
    log = open(cwd / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args, "--port", str(port), "--host", "127.0.0.1"],
                            cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + start_timeout_s
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        if proc.poll() is not None or time.monotonic() >= deadline:
            raise RuntimeError(f"the server did not start: {(cwd / 'server.log').read_text()[-2000:]}")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@contextmanager
def browser() -> Iterator[object]:
    """A headless Chromium (Playwright) whose pages may reach only this machine."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        chromium = play.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def offline_page(chromium, outside: list[str], missing: list[str] | None = None):
    """A page of ``chromium`` that blocks (and lists in ``outside``) every request off this machine,
    and lists in ``missing`` every asset the server did not have (HTTP status 400 or more)."""
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(120_000)
    if missing is not None:
        page.on("response", lambda response: missing.append(f"{response.status} {response.url}")
                if response.status >= 400 else None)

    def route(request_route):
        url = request_route.request.url
        if url.startswith(LOCAL):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    return page
