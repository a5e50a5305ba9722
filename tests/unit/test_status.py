from __future__ import annotations

import pytest

from healthprobe import Status


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("pass", Status.PASS),
        ("OK", Status.PASS),
        ("up", Status.PASS),
        ("Healthy", Status.PASS),
        ("success", Status.PASS),
        ("SERVING", Status.PASS),
        ("warn", Status.WARN),
        ("warning", Status.WARN),
        ("degraded", Status.WARN),
        ("unknown", Status.UNKNOWN),
        ("fail", Status.FAIL),
        ("error", Status.FAIL),
        ("DOWN", Status.FAIL),
        ("unhealthy", Status.FAIL),
        ("out-of-service", Status.FAIL),
        ("NOT_SERVING", Status.FAIL),
        (" ok ", Status.PASS),
        (Status.WARN, Status.WARN),
    ],
)
def test_parse_accepts_every_common_convention(word: object, expected: Status) -> None:
    assert Status.parse(word) is expected


@pytest.mark.parametrize("word", ["", "okay-ish", "healthyy", 1, None, True])
def test_parse_rejects_anything_else(word: object) -> None:
    with pytest.raises(ValueError, match="unrecognized status"):
        Status.parse(word)


def test_severity_order_is_pass_warn_unknown_fail() -> None:
    ordered = sorted(Status, key=lambda s: s.severity)
    assert ordered == [Status.PASS, Status.WARN, Status.UNKNOWN, Status.FAIL]


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (Status.PASS, "healthy"),
        (Status.WARN, "degraded"),
        (Status.FAIL, "unhealthy"),
        (Status.UNKNOWN, "unknown"),
    ],
)
def test_labels_are_the_default_json_words(status: Status, label: str) -> None:
    assert status.label == label
    assert str(status) == status.value
