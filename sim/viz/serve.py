"""Serving a Solara page on this machine, offline: ``serve("sim.viz.live", port=8765)``.

Solara's own ``solara run`` would contact PyPI for its version check and send usage
telemetry; both are off. Its asset proxy serves every script, style and font from the
installed ``solara-assets`` (pinned with ``solara`` in the ``app`` extra of pyproject.toml:
the files land in ``<prefix>/share/solara/cdn``); a file missing there would be fetched
from a CDN by the server, so the CDN is pointed at a closed local port: a missing asset
fails on this machine instead. The browser tests block every request not to this machine,
check that none is attempted, and that no asset is missing.
"""

from __future__ import annotations

import argparse
import os
import sys

#: Environment that keeps Solara offline (read by solara.server.settings at import).
OFFLINE_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_PROXY": "True",
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/",     # the discard port: nothing listens, nothing leaves
    "SOLARA_THEME_SHOW_BANNER": "False",
}


def add_server_options(parser: argparse.ArgumentParser, default_port: int) -> None:
    """The options every page's command shares: ``--port`` and ``--host``."""
    parser.add_argument("--port", type=int, default=default_port, help=f"port to listen on (default {default_port})")
    parser.add_argument("--host", default="localhost",
                        help="address to listen on (default localhost; 0.0.0.0 lets other machines of the room connect)")


def check_port(port: int) -> None:
    if not 1 <= port <= 65535:
        from sim.params import ConfigError

        raise ConfigError(f"error: --port: {port} is not a port number (1-65535)")


def serve(app_module: str, *, port: int, host: str, title: str) -> int:
    """Run the Solara server for ``app_module`` until interrupted; print the address first."""
    os.environ.update(OFFLINE_ENV)
    from solara.__main__ import run

    shown = "localhost" if host in ("0.0.0.0", "::") else host
    print(f"{title}: http://{shown}:{port}/  (Ctrl-C stops it)", flush=True)
    args = [app_module, "--port", str(port), "--host", host, "--no-open", "--production", "--no-check-version",
            "--log-level", "warning"]
    try:
        run.main(args, prog_name="solara run", standalone_mode=False)
    except KeyboardInterrupt:
        pass
    except OSError as err:
        print(f"error: cannot serve on {host}:{port}: {err}", file=sys.stderr)
        return 2
    return 0
