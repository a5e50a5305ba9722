"""``python -m healthprobe``: the same command line as the ``healthprobe`` script."""

from __future__ import annotations

from healthprobe.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
