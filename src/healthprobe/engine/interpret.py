"""Reading whatever a check returned as a :class:`CheckResult` (pure functions).

The accepted shapes cover the conventions of the libraries users migrate from:

==========================  ====================================================
returned                    read as
==========================  ====================================================
``None`` / ``True``         pass
``False``                   fail
``(verdict, message)``      ``verdict`` is read like a result of its own (a
                            bool, a status word, a ``Status``, a mapping with a
                            ``status``, a ``CheckResult``); anything else there
                            (``None``, a number...) fails, naming its type.
                            A mapping as the second item becomes details
                            instead of a message.
``{"status": ..., ...}``    the status word (``healthy``, ``ok``, ``down``...);
                            ``output``/``message``/``error`` becomes the
                            output, the rest details.  A mapping without
                            ``status`` passes.
``"ok"`` / ``"down"``...    the status word; an unknown word fails
``Status``                  that status
``CheckResult``             as it is
anything else               fail, naming the unsupported type
==========================  ====================================================

Every step is linear in the size of what was returned: nothing here runs a
regular expression or compares text by more than a dictionary lookup.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .result import CheckResult
from .status import Status

__all__ = ["interpret"]

# ``error`` is the tutorial shape: ``{"status": "unhealthy", "error": str(exc)}``.
_OUTPUT_KEYS = ("output", "message", "error")


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
    return _unsupported(value)


def _unsupported(value: object, where: str = "") -> CheckResult:
    kind = type(value).__name__
    return CheckResult(Status.FAIL, f"check returned an unsupported value of type {kind}{where}")


def _from_pair(verdict: object, extra: object) -> CheckResult:
    # The first item is read like a whole result: ("fail", "db down") fails.
    # Truthiness alone would make every non-empty word, and any dict, a pass.
    if isinstance(verdict, (bool, Status, str, Mapping, CheckResult)):
        result = interpret(verdict)
        refused = result.status is Status.FAIL and result.output.startswith("check returned")
    else:
        # None, 0, 1...: no convention says what they mean; failing says so.
        result = _unsupported(verdict, " as the first item of (status, message)")
        refused = True
    if refused:
        # The reason for refusing comes first; the check's own message follows it.
        if isinstance(extra, str) and extra:
            return dataclasses.replace(result, output=f"{result.output}: {extra}")
        return result
    if isinstance(extra, Mapping):
        details = {**result.details, **{str(k): v for k, v in extra.items()}}
        return dataclasses.replace(result, details=details)
    if extra is None or extra == "":
        return result
    return dataclasses.replace(result, output=str(extra))


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
        found = details.get(key)
        if isinstance(found, BaseException):
            # {"status": "down", "error": exc}: its type and message, never a traceback.
            message = str(found)
            found = f"{type(found).__name__}: {message}" if message else type(found).__name__
        if isinstance(found, str):
            output = found
            del details[key]
            break
    return CheckResult(status, output, details)


def _from_word(value: str) -> CheckResult:
    try:
        return CheckResult(Status.parse(value))
    except ValueError:
        return CheckResult(Status.FAIL, f"check returned an unrecognized status {value!r}")
