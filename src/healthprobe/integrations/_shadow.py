"""No silent shadowing: the app's own routes that the probe paths would take over.

Every integration answers its paths before (or instead of) some of the
application's routes.  An app that already has a ``/health`` (the route
every tutorial writes) or a ``/metrics`` would lose it without a word, so
each integration asks :func:`shadowed` about the routes it can see and
either raises :class:`~healthprobe.ConfigurationError` (where the conflict
is certain when ``install()`` runs) or warns with
:class:`ShadowedRouteWarning` (where raising would stop an app that has run
this way for several releases from starting: the middlewares).  The
message names the route and the option that moves the probe path.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING

from healthprobe.engine.errors import ConfigurationError
from healthprobe.http.endpoints import Endpoint

if TYPE_CHECKING:
    from healthprobe.http.handler import ProbeHandler

__all__ = ["ShadowedRouteWarning", "refuse_shadowing", "shadowed", "warn_shadowing"]


class ShadowedRouteWarning(UserWarning):
    """healthprobe answers a path the application also routes (its route is never reached)."""


def shadowed(handler: ProbeHandler, paths: Iterable[str]) -> list[str]:
    """The ``paths`` (the app's route patterns) that ``handler`` would answer, in order.

    A pattern with a parameter (``/health/{item}``, ``/health/<name>``) is
    shadowed when its literal form is: the probe route claims it first.
    """
    seen: list[str] = []
    for path in paths:
        if path not in seen and handler.match(path) is not None:
            seen.append(path)
    return seen


def message(handler: ProbeHandler, paths: list[str], where: str) -> str:
    """One sentence: which routes, which options move the probes away from them."""
    options: list[str] = []
    for path in paths:
        matched = handler.match(path)
        if isinstance(matched, Endpoint):
            option = "metrics_path=" if matched.kind == "metrics" else "ui_path="
        else:
            option = "paths= or prefix="
        if option not in options:
            options.append(option)
    listed = ", ".join(repr(p) for p in paths)
    return (
        f"healthprobe ({where}) would answer the app's own route {listed} before the app "
        f"does; move the probe path with {' / '.join(options)} (e.g. prefix='/_'), "
        "or remove the app's route"
    )


def refuse_shadowing(handler: ProbeHandler, paths: Iterable[str], where: str) -> None:
    """Raise :class:`ConfigurationError` when ``handler`` would shadow one of ``paths``."""
    found = shadowed(handler, paths)
    if found:
        raise ConfigurationError(message(handler, found, where))


def warn_shadowing(handler: ProbeHandler, paths: Iterable[str], where: str) -> None:
    """Warn (:class:`ShadowedRouteWarning`) when ``handler`` would shadow one of ``paths``."""
    found = shadowed(handler, paths)
    if found:
        warnings.warn(message(handler, found, where), ShadowedRouteWarning, stacklevel=3)
