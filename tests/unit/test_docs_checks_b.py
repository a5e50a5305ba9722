"""docs/checks-b.md: one entry per config type of these kinds, and its config examples load."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from healthprobe.config import BUILTIN_CHECKS, load

DOC = Path(__file__).resolve().parents[2] / "docs" / "checks-b.md"
#: The config types this page documents (the rest are in docs/checks.md).
TYPES = {
    "django_database",
    "django_cache",
    "django_storage",
    "django_migrations",
    "grpc",
    "prometheus_query",
    "s3",
    "writable",
    "inodes",
    "file_age",
    "open_files",
    "threads",
}
ENVIRON = {"PAYMENTS_TOKEN": "t0ken", "S3_KEY": "AKIA", "S3_SECRET": "s3cr3t-value"}


def sections() -> dict[str, str]:
    text = DOC.read_text()
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    return {part.split("\n", 1)[0].strip(): part for part in parts}


def test_every_type_has_one_entry_naming_its_class() -> None:
    found = sections()
    assert set(found) >= TYPES
    for kind in TYPES:
        assert kind in BUILTIN_CHECKS
        entry = found[kind]
        assert f"`{BUILTIN_CHECKS[kind].cls}(" in entry, kind
        assert f'config `type = "{kind}"`' in entry.replace("\n", " "), kind


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_the_config_example_builds_that_check(kind: str, tmp_path: Path) -> None:
    (block,) = re.findall(r"```toml\n(.*?)```", sections()[kind], flags=re.DOTALL)
    path = tmp_path / "healthprobe.toml"
    path.write_text(block)
    health = load(path, environ=ENVIRON).build()
    try:
        (name,) = re.findall(r"^\[checks\.(\w+)\]", block, flags=re.MULTILINE)
        assert type(health.spec(name).target).__name__ == BUILTIN_CHECKS[kind].cls
    finally:
        health.stop()
