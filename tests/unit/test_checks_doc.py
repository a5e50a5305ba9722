"""docs/checks.md lists every check kind, with signatures and config examples that are true.

A kind of ``BUILTIN_CHECKS`` or a class of ``healthprobe.checks`` missing from the
page fails here; so does a documented signature that differs from the code (it is
rendered from ``inspect.signature``, the way the page shows it) and a config
example that does not build.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import healthprobe.checks
from healthprobe.config import BUILTIN_CHECKS, load

DOC = Path(__file__).resolve().parents[2] / "docs" / "checks.md"

#: Variables the examples read with ${...}.
ENVIRON = {
    "DATABASE_URL": "postgresql+asyncpg://app:pw-123456@127.0.0.1:5432/app",
    "MYSQL_URL": "mysql://app:pw-123456@127.0.0.1:3306/app",
    "MQTT_PASSWORD": "pw-123456",
    "AMQP_PASSWORD": "pw-123456",
    "LDAP_PROBE_PASSWORD": "pw-123456",
    "SMTP_PASSWORD": "pw-123456",
    "PAYMENTS_TOKEN": "t0ken",
    "S3_KEY": "AKIA",
    "S3_SECRET": "s3cr3t-value",
    "BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
}


def signature_of(cls: type) -> str:
    """``Name(param: annotation = default, *, ...)``, one parameter a line when long."""
    parts: list[str] = []
    star = False
    for param in inspect.signature(cls).parameters.values():
        if param.kind is param.VAR_POSITIONAL:
            parts.append(f"*{param.name}")
            star = True
            continue
        if param.kind is param.VAR_KEYWORD:
            parts.append(f"**{param.name}")
            continue
        if param.kind is param.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        text = param.name
        if param.annotation is not param.empty:
            text += f": {param.annotation}"
        if param.default is not param.empty:
            text += f" = {param.default!r}"
        parts.append(text)
    one_line = f"{cls.__name__}({', '.join(parts)})"
    if len(one_line) <= 88:
        return one_line
    return f"{cls.__name__}(\n" + "".join(f"    {part},\n" for part in parts) + ")"


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text()


@pytest.mark.parametrize("kind", sorted(BUILTIN_CHECKS))
def test_every_config_type_is_documented(doc: str, kind: str) -> None:
    assert f'type = "{kind}"' in doc, f"docs/checks.md has no entry for type {kind!r}"


@pytest.mark.parametrize("name", healthprobe.checks.__all__)
def test_every_check_class_is_documented_with_its_signature(doc: str, name: str) -> None:
    cls = getattr(healthprobe.checks, name)
    assert f"`{name}`" in doc, f"docs/checks.md does not mention {name}"
    assert f"```python\n{signature_of(cls)}\n```" in doc, (
        f"the signature of {name} in docs/checks.md differs from the code:\n{signature_of(cls)}"
    )


def _blocks(doc: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", doc, flags=re.S)


def test_every_config_example_builds(doc: str, tmp_path: Path) -> None:
    examples = [b for b in _blocks(doc, "toml") if b.startswith("[checks.")]
    assert len(examples) >= len({b.cls for b in BUILTIN_CHECKS.values()}) - 2
    for index, text in enumerate(examples):
        path = tmp_path / f"example-{index}.toml"
        path.write_text(text)
        health = load(path, environ=ENVIRON).build()
        try:
            name = re.findall(r"^\[checks\.(\w+)\]$", text, flags=re.M)[0]
            kind = re.findall(r'^type = "(\w+)"$', text, flags=re.M)[0]
            target = health.spec(name).target
            wrapped = getattr(target, "wrapped", target)  # an engine the config made
            assert type(wrapped).__name__ == BUILTIN_CHECKS[kind].cls, text
        finally:
            health.stop()


def test_every_code_example_compiles_and_uses_known_probes(doc: str) -> None:
    examples = [b for b in _blocks(doc, "python") if not re.match(r"\w+Check\(", b)]
    assert len(examples) > len(BUILTIN_CHECKS) // 2
    for text in examples:
        # The lifespan examples are statements of an async function body.
        body = "".join(f"    {line}\n" for line in text.splitlines())
        compile(f"async def lifespan():\n{body}", "docs/checks.md", "exec")
        for probes in re.findall(r"probes=\[([^\]]*)\]", text):
            named = set(re.findall(r'"(\w+)"', probes))
            assert named <= {"live", "ready", "startup"}, text


def test_sections_are_in_alphabetical_order(doc: str) -> None:
    # Two branches add kinds at once: alphabetical sections merge without a fight.
    headings = re.findall(r"^## (.+)$", doc, flags=re.M)
    kinds = headings[headings.index("Not in the catalogue") + 1 :]
    assert kinds == sorted(kinds, key=str.lower)


def test_the_kinds_left_out_are_named(doc: str) -> None:
    for name in ("MongoDB", "Kafka", "Elasticsearch", "OpenSearch"):
        assert name in doc
