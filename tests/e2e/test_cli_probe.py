"""``healthprobe probe``: the installed script's exit codes against a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e._cli_support import run_cli, uvicorn_app

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("probe") / "uvicorn.log"
    with uvicorn_app(port, log):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("path", "code", "reason"),
    [
        ("/ok", 0, ""),
        # a stray slash or a login wall answers a 3xx while the service fails (issue 13.4)
        ("/moved", 1, "answered 302 Found: a redirect is not a health answer"),
        ("/fail", 1, "answered 503 Service Unavailable"),
        ("/missing", 1, "answered 404 Not Found"),
    ],
)
def test_exit_code_follows_the_status(base_url: str, path: str, code: int, reason: str) -> None:
    proc, _ = run_cli(["probe", base_url + path])
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    if reason:
        assert proc.stderr == f"healthprobe: {base_url}{path}: {reason}\n"
    else:
        assert proc.stderr == ""


def test_connection_refused_fails_with_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}/livez"
    proc, elapsed = run_cli(["probe", url])
    assert proc.returncode == 1
    assert proc.stderr == f"healthprobe: {url}: connection refused\n"
    assert elapsed < 10


def test_a_server_that_never_answers_fails_at_the_timeout(base_url: str) -> None:
    proc, elapsed = run_cli(["probe", "--timeout", "1", base_url + "/sleep"])
    assert proc.returncode == 1
    assert proc.stderr == f"healthprobe: {base_url}/sleep: no answer within 1 s\n"
    assert 0.9 <= elapsed < 10  # bounded by --timeout, not by the 30 s the app sleeps


def test_headers_are_sent_and_never_echoed(base_url: str) -> None:
    denied, _ = run_cli(["probe", base_url + "/auth", "-H", "Authorization: Bearer wrong-token"])
    assert denied.returncode == 1
    assert "401" in denied.stderr
    assert "wrong-token" not in denied.stderr
    allowed, _ = run_cli(
        ["probe", base_url + "/auth", "--header", "Authorization: Bearer s3cret-token"]
    )
    assert allowed.returncode == 0, allowed.stderr


def test_quiet_prints_nothing(base_url: str) -> None:
    proc, _ = run_cli(["probe", "--quiet", base_url + "/fail"])
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", "")


def test_credentials_and_query_never_shown(base_url: str) -> None:
    url = base_url.replace("http://", "http://user:hunter2@") + "/fail?token=abc123"
    proc, _ = run_cli(["probe", url])
    assert proc.returncode == 1
    assert "hunter2" not in proc.stderr
    assert "abc123" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "a URL is required"),
        (["ftp://example/"], "the URL must start with http:// or https://"),
        (["http://127.0.0.1:1/", "--timeout", "-1"], "--timeout must be a positive number"),
        (["http://127.0.0.1:1/", "--header", "no colon"], "--header must look like"),
        (["http://127.0.0.1:1/", "--bogus"], "unknown option --bogus"),
    ],
)
def test_bad_usage_exits_1_not_dockers_reserved_2(args: list[str], message: str) -> None:
    proc, _ = run_cli(["probe", *args])
    assert proc.returncode == 1
    assert message in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_help_exits_0(tmp_path: Path) -> None:
    proc, _ = run_cli(["probe", "--help"])
    assert proc.returncode == 0
    assert "usage: healthprobe probe URL" in proc.stdout


def test_https_verifies_the_certificate_unless_insecure(tmp_path: Path) -> None:
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    key_file, cert_file = tmp_path / "key.pem", tmp_path / "cert.pem"
    cert.private_key_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    port = free_port()
    extra = ("--ssl-keyfile", str(key_file), "--ssl-certfile", str(cert_file))
    with uvicorn_app(port, tmp_path / "uvicorn.log", *extra):
        url = f"https://127.0.0.1:{port}/ok"
        untrusted, _ = run_cli(["probe", url])
        assert untrusted.returncode == 1
        assert untrusted.stderr == (
            f"healthprobe: {url}: TLS certificate verification failed (see --insecure)\n"
        )
        insecure, _ = run_cli(["probe", "--insecure", url])
        assert insecure.returncode == 0, insecure.stderr
        failing, _ = run_cli(["probe", "-k", f"https://127.0.0.1:{port}/fail"])
        assert failing.returncode == 1
        assert "answered 503" in failing.stderr


def test_accept_redirects_opts_into_kubelets_rule(base_url: str) -> None:
    proc, _ = run_cli(["probe", "--accept-redirects", base_url + "/moved"])
    assert (proc.returncode, proc.stderr) == (0, "")
    proc, _ = run_cli(["probe", "--accept-redirects", base_url + "/fail"])
    assert proc.returncode == 1
