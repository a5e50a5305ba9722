"""``healthprobe check``: run the checks of a config file in-process and print a report.

No server is involved: the checks run once, concurrently, each bounded by
its timeout, and the process exits with the verdict: 0 on pass or warn, 1
on fail (``--strict``: warn fails too), 2 when the config file is bad (the
message names the file and the key; a file without checks is bad too).
``--validate`` reads the whole file (``[serve]`` included) and builds every
check, running none: exit 0 when it is valid, 2 when it is not.  This
replaces the hand-written ``health_check.py`` of CI pipelines and cron jobs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence

from healthprobe.engine.errors import ConfigurationError, UnknownProbeError
from healthprobe.engine.health import Health
from healthprobe.engine.report import Report
from healthprobe.engine.status import Status
from healthprobe.http.policy import Detail
from healthprobe.http.render_ietf import render_ietf as _render_ietf
from healthprobe.http.render_json import render_json as _render_json

from ._config import load_and_build

__all__ = ["main", "render_ietf", "render_json", "render_table"]

DEFAULT_CONFIG = "healthprobe.toml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="healthprobe check",
        description="Run the configured checks once and report; "
        "exit 0 pass/warn, 1 fail, 2 bad config.",
    )
    parser.add_argument(
        "-c",
        "--config",
        default=os.environ.get("HEALTHPROBE_CONFIG", DEFAULT_CONFIG),
        help="config file (default: $HEALTHPROBE_CONFIG or healthprobe.toml)",
    )
    parser.add_argument(
        "-f", "--format", choices=("table", "json", "ietf"), default="table", help="output format"
    )
    parser.add_argument("--strict", action="store_true", help="a warn fails too (exit 1)")
    parser.add_argument(
        "--probe", default=None, help="run only this probe's checks (live, ready, startup...)"
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="read the file and build its checks, run none (exit 0 valid, 2 not)",
    )
    parser.add_argument(
        "--heartbeat-file",
        metavar="PATH",
        default=None,
        help="instead of the config: fail when PATH is missing or older than --max-age "
        "(an exec probe for a worker whose Heartbeat touches it)",
    )
    parser.add_argument(
        "--max-age", type=float, default=None, metavar="SECONDS", help="with --heartbeat-file"
    )
    return parser


def main(argv: Sequence[str]) -> int:
    """Run ``healthprobe check`` with ``argv`` (the arguments after ``check``)."""
    args = _parser().parse_args(argv)
    try:
        if args.heartbeat_file is not None:
            from ._heartbeat_file import heartbeat_health  # noqa: PLC0415 - only for exec probes

            health = heartbeat_health(args.heartbeat_file, args.max_age)
            source = args.heartbeat_file
        else:
            config, health = load_and_build(args.config, require_checks=True)
            source = config.path
    except ConfigurationError as exc:  # ConfigError, or a missing driver's extra
        sys.stderr.write(f"healthprobe: bad config: {exc}\n")
        return 2
    except ImportError as exc:
        sys.stderr.write(f"healthprobe: {args.config}: {exc}\n")
        return 2
    if args.validate:
        try:
            names = health.names(args.probe)
        except UnknownProbeError as exc:
            sys.stderr.write(f"healthprobe: --probe: {exc}\n")
            return 2
        finally:
            health.stop()  # close whatever a constructor opened; nothing ran
        sys.stdout.write(f"{source}: valid, {len(names)} checks: {', '.join(names)}\n")
        return 0
    try:
        try:
            report = health.run(args.probe)
        except UnknownProbeError as exc:
            sys.stderr.write(f"healthprobe: --probe: {exc}\n")
            return 2
    finally:
        health.stop()  # close the connections the checks opened
    if args.format == "json":
        sys.stdout.write(render_json(report, health) + "\n")
    elif args.format == "ietf":
        sys.stdout.write(render_ietf(report, health) + "\n")
    else:
        sys.stdout.write(render_table(report))
    failed = report.verdict is Status.FAIL or (args.strict and report.verdict is Status.WARN)
    return 1 if failed else 0


def render_table(report: Report) -> str:
    """One line per check (name, status, latency, criticality, reason), then the verdict."""
    rows = [("CHECK", "STATUS", "LATENCY", "CRITICAL", "REASON")]
    for check in report.checks.values():
        result = check.result
        latency = "-" if result.latency_ms is None else f"{result.latency_ms:.1f} ms"
        rows.append(
            (
                check.name,
                result.status.value,
                latency,
                "yes" if check.critical else "no",
                result.output or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
        + "  "
        + row[4]
        for row in rows
    ]
    if not report.checks:
        lines.append("(no checks to run)")
    verdict = report.verdict
    lines.append(
        f"{verdict.value} ({verdict.label}): {len(report.checks)} checks "
        f"in {report.duration * 1000:.0f} ms"
    )
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render_json(report: Report, health: Health) -> str:
    """healthprobe's default JSON document, exactly as the HTTP layer renders it."""
    body = _render_json(
        report,
        Detail.FULL,
        version=health.version,
        now=dt.datetime.now(dt.timezone.utc),
        uptime=health.uptime(),
    )
    return body.decode()


def render_ietf(report: Report, health: Health) -> str:
    """The IETF health+json document, exactly as the HTTP layer renders it."""
    return _render_ietf(report, Detail.FULL, service={"version": health.version}).decode()
