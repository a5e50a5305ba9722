"""Every missing driver is named at once, with the one pip install that fixes them (issue 13.13)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from healthprobe.cli import main
from healthprobe.config import load
from healthprobe.config._errors import MissingDriverError

CONFIG = """
[checks.web]
type = "http"
url = "http://127.0.0.1:1/"

[checks.disk]
type = "disk"
path = "/"

[checks.cache]
type = "redis"
url = "redis://127.0.0.1:1/0"

[checks.broker]
type = "rabbitmq"
url = "amqp://127.0.0.1:1/"
"""


@pytest.fixture
def without_drivers(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx, redis and aio_pika are "not installed": importing them fails as it would."""
    for top in ("httpx", "redis", "aio_pika"):
        for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.setitem(sys.modules, top, None)


@pytest.mark.usefixtures("without_drivers")
def test_build_names_every_missing_driver_in_one_error(tmp_path: Path) -> None:
    path = tmp_path / "healthprobe.toml"
    path.write_text(CONFIG)
    with pytest.raises(MissingDriverError) as caught:
        load(path, environ={}).build()
    error = caught.value
    assert error.key == "checks"
    assert error.extras == ("http", "redis", "rabbitmq")
    assert error.problem == (
        "3 checks need a driver that is not installed: checks.web (http), "
        "checks.cache (redis), checks.broker (rabbitmq); "
        "install them with: pip install 'healthprobe[http,redis,rabbitmq]'"
    )


@pytest.mark.usefixtures("without_drivers")
def test_check_prints_them_on_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "healthprobe.toml"
    path.write_text(CONFIG)
    assert main(["check", "-c", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"healthprobe: bad config: {path}: checks: 3 checks need a driver")
    assert "pip install 'healthprobe[http,redis,rabbitmq]'" in err


@pytest.mark.usefixtures("without_drivers")
def test_one_missing_driver_is_named_at_its_key(tmp_path: Path) -> None:
    path = tmp_path / "healthprobe.toml"
    path.write_text('[checks.web]\ntype = "http"\nurl = "http://127.0.0.1:1/"\n')
    with pytest.raises(MissingDriverError) as caught:
        load(path, environ={}).build()
    assert caught.value.key == "checks.web"
    assert "pip install 'healthprobe[http]'" in caught.value.problem
