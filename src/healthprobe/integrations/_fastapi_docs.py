"""OpenAPI entries for the probe paths: FastAPI routes that document and never match.

This module imports FastAPI: import it only after ``require("fastapi", "fastapi")``.

FastAPI's OpenAPI generator lists the :class:`~fastapi.routing.APIRoute`
entries of an application; its router picks the first route that matches.
The probe paths are answered by :class:`~healthprobe.integrations._probe_route.ProbeRoute`
(first in the router, one dict lookup, no request objects or dependency
resolution), so their OpenAPI entries are routes that never match: they
exist for the document alone, and FastAPI's machinery never runs for a probe.
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

__all__ = ["DocumentedProbe", "documented_check", "documented_probe"]


class DocumentedProbe(APIRoute):
    """An APIRoute in the OpenAPI document that the router never selects."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        return Match.NONE, {}


async def documented_probe() -> None:
    """The endpoint FastAPI reads the signature of; never called (the route never matches)."""


async def documented_check(name: str) -> None:
    """As :func:`documented_probe`, for ``<path>/{name}`` (declares the path parameter)."""
