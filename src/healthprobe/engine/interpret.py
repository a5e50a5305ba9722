"""Reading whatever a check returned as a :class:`CheckResult` (pure functions).

The accepted shapes cover the conventions of the libraries users migrate from:

========================  ======================================================
returned                  read as
========================  ======================================================
``None`` / ``True``       pass
``False``                 fail
``(ok, message)``         pass or fail by ``bool(ok)``; a mapping as the second
                          item becomes details instead of a message
``{"status": ..., ...}``  the status word (``healthy``, ``ok``, ``down``...);
                          ``output``/``message`` becomes the output, the rest
                          details.  A mapping without ``status`` passes.
``"ok"`` / ``"down"``...  the status word; an unknown word fails
``Status``                that status
``CheckResult``           as it is
anything else             fail, naming the unsupported type
========================  ======================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .result import CheckResult
from .status import Status

__all__ = ["interpret"]

_OUTPUT_KEYS = ("output", "message")


def interpret(value: object) -> CheckResult:  # noqa: PLR0911 - one return per convention
    """Turn the return value of a check into a :class:`CheckResult`."""
    if isinstance(value, CheckResult):
        return value
    if value is None or value is True:
        return CheckResult(Status.PASS)
    if value is False:
        return CheckResult(Status.FAIL)
    if isinstance(value, Status):
        return CheckResult(value)
    if isinstance(value, tuple) and len(value) == 2:
        return _from_pair(value[0], value[1])
    if isinstance(value, Mapping):
        return _from_mapping(value)
    if isinstance(value, str):
        return _from_word(value)
    return CheckResult(
        Status.FAIL, f"check returned an unsupported value of type {type(value).__name__}"
    )


def _from_pair(ok: object, extra: object) -> CheckResult:
    status = Status.PASS if ok else Status.FAIL
    if isinstance(ok, Status):
        status = ok
    if isinstance(extra, Mapping):
        return CheckResult(status, details=dict(extra))
    return CheckResult(status, "" if extra is None else str(extra))


def _from_mapping(value: Mapping[Any, Any]) -> CheckResult:
    details = {str(k): v for k, v in value.items()}
    status = Status.PASS
    if "status" in details:
        raw = details.pop("status")
        try:
            status = Status.parse(raw)
        except ValueError:
            return CheckResult(Status.FAIL, f"check returned an unrecognized status {raw!r}")
    output = ""
    for key in _OUTPUT_KEYS:
        if isinstance(details.get(key), str):
            output = details.pop(key)
            break
    return CheckResult(status, output, details)


def _from_word(value: str) -> CheckResult:
    try:
        return CheckResult(Status.parse(value))
    except ValueError:
        return CheckResult(Status.FAIL, f"check returned an unrecognized status {value!r}")
