"""Lazy imports of optional packages, with an error that says what to install."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingDependencyError", "require"]


class MissingDependencyError(ImportError):
    """An optional package healthprobe needs for this feature is not installed.

    ``extra`` is the extra that provides it (``pip install 'healthprobe[extra]'``).
    """

    def __init__(self, message: str, *, extra: str = "") -> None:
        super().__init__(message)
        self.extra = extra


def require(module: str, extra: str, *, package: str | None = None) -> ModuleType:
    """Import ``module``, or raise :class:`MissingDependencyError` naming the extra.

    Only a missing ``module`` itself (or its top-level package) is reported
    as "please install": an ImportError raised *inside* an installed package
    (a broken nested import) propagates unchanged, so it is never masked.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".", 1)[0]
        missing = exc.name or ""
        # The module itself or one of its parent packages is missing; anything
        # else is a broken import inside an installed package: let it show.
        if not (missing == module or module.startswith(missing + ".")) or not missing:
            raise
        wanted = package or top
        raise MissingDependencyError(
            f"{module!r} is not installed; it is needed here. "
            f"Install it with: pip install 'healthprobe[{extra}]' (it provides {wanted})",
            extra=extra,
        ) from exc
