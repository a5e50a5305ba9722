"""The seam for endpoints served beside the probes (``/metrics``, ``/health/ui``).

The handler owns the probe paths; other endpoints plug in through
:class:`Endpoints`, so that this room never imports what renders them (the
observe room): an integration builds both and joins them (see
:mod:`healthprobe.integrations._endpoints`).  Extra endpoints are matched
before ``<probe>/<check>``, so ``/health/ui`` is never read as a check.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .messages import Request, Response
    from .policy import DetailsPolicy

__all__ = ["Endpoint", "Endpoints"]


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """A matched extra path: ``kind`` says which endpoint (``metrics``, ``ui``...)."""

    kind: str
    path: str


class Endpoints(Protocol):
    """What the handler asks of the endpoints beside the probes."""

    def match(self, path: str) -> Endpoint | None:
        """The endpoint at ``path`` (already prefixed), or None."""
        ...  # pragma: no cover - a protocol

    def respond(self, endpoint: Endpoint, request: Request, policy: DetailsPolicy) -> Response:
        """Answer ``request``; ``policy`` is the handler's details policy. Never runs a check."""
        ...  # pragma: no cover - a protocol
