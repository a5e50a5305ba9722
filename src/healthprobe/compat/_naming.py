"""Check names from a peer's class names (``SearchIndex`` -> ``search_index``)."""

from __future__ import annotations

import re

__all__ = ["snake_name"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_INVALID = re.compile(r"[^A-Za-z0-9_.-]+")


def snake_name(name: str) -> str:
    """A valid healthprobe check name made of ``name`` (``check`` when nothing is left)."""
    text = _INVALID.sub("_", _CAMEL.sub("_", name)).strip("_.-").lower()
    return text[:64].rstrip("_.-") or "check"
