from __future__ import annotations

import pytest

from healthprobe import sanitize
from healthprobe.engine.sanitize import describe_exception, sanitize_details

SECRET_TEXTS = [
    ("postgresql://app:S3cret@db.internal:5432/app", ["S3cret", "db.internal"]),
    ("could not connect to redis://:S3cret@cache.internal:6379/0 (refused)", ["S3cret", "cache"]),
    ("amqp://guest:S3cret@mq.internal/vhost", ["S3cret", "mq.internal"]),
    ("mysql+pymysql://root:S3cret@10.0.0.12/db", ["S3cret", "10.0.0.12"]),
    ("host=db.internal password=S3cret user=app", ["S3cret"]),
    ("password: 'S3cret' rejected", ["S3cret"]),
    ('{"api_key": "S3cret"}', ["S3cret"]),
    ("auth_token=S3cret&x=1", ["S3cret"]),
    ("Authorization: Bearer abcdefS3cret.xyz", ["S3cret"]),
]


@pytest.mark.parametrize(("text", "forbidden"), SECRET_TEXTS)
def test_credentials_are_scrubbed(text: str, forbidden: list[str]) -> None:
    out = sanitize(text)
    for word in forbidden:
        assert word not in out
    assert "***" in out


def test_declared_secrets_are_scrubbed_longest_first() -> None:
    dsn = "db.internal:5432"
    out = sanitize("timeout talking to db.internal:5432 (db.internal)", [dsn, "db.internal"])
    assert "db.internal" not in out
    assert out == "timeout talking to *** (***)"


def test_text_is_flattened_and_capped() -> None:
    out = sanitize("line one\n  line two\tend")
    assert out == "line one line two end"
    long = sanitize("x" * 5000)
    assert len(long) == 500
    assert long.endswith("…")


def test_harmless_text_is_unchanged() -> None:
    text = "connection refused by 127.0.0.1:5432 after 0.5 s"
    assert sanitize(text) == text


def test_exception_description_has_type_and_message_but_no_traceback() -> None:
    try:
        raise ConnectionError("postgresql://app:S3cret@db.internal:5432/app unreachable")
    except ConnectionError as exc:
        text = describe_exception(exc)
    assert text.startswith("ConnectionError: ")
    assert "S3cret" not in text
    assert "Traceback" not in text
    assert describe_exception(TimeoutError()) == "TimeoutError"


def test_details_are_sanitized_recursively() -> None:
    details = {
        "dsn": "postgresql://app:S3cret@db.internal/app",
        "nested": {"list": ["password=S3cret", 3, None, True]},
        "obj": ValueError("token=S3cret"),
    }
    clean = sanitize_details(details)
    assert "S3cret" not in repr(clean)
    assert clean["nested"]["list"][1:] == [3, None, True]


def test_a_short_secret_is_scrubbed_only_where_it_stands_alone() -> None:
    text = "pass exactly one of script_location; password p rejected for p@db"
    out = sanitize(text, ["p"])
    assert out.startswith("pass exactly one of script_location")
    assert " p " not in out
    assert "*** rejected for ***@db" in out
