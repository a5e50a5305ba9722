"""The framework adapters (one module per framework); see docs/http.md and docs/frameworks.md.

:class:`ShadowedRouteWarning` is what an integration warns with when its
probe paths take over a route the application already has.
"""

from __future__ import annotations

from ._shadow import ShadowedRouteWarning

__all__ = ["ShadowedRouteWarning"]
