"""The ``healthprobe`` command line: ``probe``, ``wait``, ``check`` and ``serve``.

``main`` dispatches on the first argument and imports only the module of
that subcommand: ``probe`` runs in every container every few seconds, so it
must not pay for ``argparse``, ``asyncio`` or the check engine.
"""

from __future__ import annotations

import importlib
import sys

TYPE_CHECKING = False  # collections.abc and typing cost `probe` a few ms at every run
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

USAGE = """\
usage: healthprobe COMMAND [ARGS...]

commands:
  probe URL          request URL once; exit 0 on 2xx, 1 otherwise (for HEALTHCHECK)
  wait URL [URL...]  block until every URL answers healthy, or fail at --timeout
  check              run the checks of a config file in-process and print a report
  serve              serve the probe endpoints of a config file (a health sidecar)

Run 'healthprobe COMMAND --help' for a command's options.
"""

_COMMANDS = ("probe", "wait", "check", "serve")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        sys.stderr.write(USAGE)
        return 2
    command, rest = args[0], args[1:]
    if command in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    if command in ("-V", "--version"):
        version = importlib.import_module("healthprobe._version").__version__
        sys.stdout.write(f"healthprobe {version}\n")
        return 0
    if command in _COMMANDS:
        # Import only this subcommand's module: `probe` must stay cheap.
        module = importlib.import_module(f"healthprobe.cli._{command}")
        try:
            code: int = module.main(rest)
        except KeyboardInterrupt:  # Ctrl-C on `wait` or `check`: no traceback
            sys.stderr.write("healthprobe: interrupted\n")
            return 130
        return code
    sys.stderr.write(
        f"healthprobe: unknown command {command!r}; choose from {', '.join(_COMMANDS)}\n"
    )
    sys.stderr.write(USAGE)
    return 2
