"""``healthprobe probe URL``: one HTTP request; exit 0 on 2xx, 1 otherwise.

This runs every few seconds in every container (Docker ``HEALTHCHECK``,
Kubernetes exec probes, images without curl), so it imports as little as
possible: ``_socket`` (the C module: ``socket.py`` builds its enums at import,
about 10 ms) and, for ``https`` only, ``ssl``.  No ``argparse``, no
``urllib``, no ``http.client`` (which imports ``ssl`` and ``email``): the
request is written by hand and only the status line is read.

Exit codes follow Docker's ``HEALTHCHECK`` contract: 0 healthy, 1 unhealthy.
Docker reserves 2, so a usage error exits 1 as well (a broken probe command
must read as unhealthy, never as "healthy" or as an undefined code).
Redirects are neither followed nor healthy: a 3xx is not a health answer
(a stray trailing slash or a login wall answers one while the service is
failing), so it exits 1 and says so.  ``--accept-redirects`` opts into
kubelet's rule (a 3xx counts as success, not followed).
"""

from __future__ import annotations

import _socket
import sys
import time

TYPE_CHECKING = False  # typing costs more to import than the whole probe
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["ProbeError", "Target", "fetch_status", "judge", "main", "parse_url", "redact_url"]

USAGE = """\
usage: healthprobe probe URL [--timeout SECONDS] [--header 'Name: value']... [--quiet]
                             [--insecure] [--accept-redirects]

Request URL once (GET). Exit 0 when it answers 2xx, 1 otherwise (a redirect,
an HTTP error status, connection refused, timeout, bad usage), with a
one-line reason on stderr.

options:
  --timeout SECONDS    bound on the whole request (default 3)
  -H, --header LINE    an extra request header, e.g. 'Authorization: Bearer ...'
                       (repeatable)
  -q, --quiet          print nothing, only set the exit code
  -k, --insecure       https: do not verify the server's certificate
                       (kubelet does not verify either)
  --accept-redirects   kubelet's rule: a 3xx counts as healthy (not followed)
"""

DEFAULT_TIMEOUT = 3.0
_MAX_STATUS_LINE = 8192


class ProbeError(Exception):
    """Why a probe did not get a healthy answer: one line, no secrets."""


class Target:
    """The parts of a probe URL (credentials and query are never shown)."""

    def __init__(
        self, scheme: str, host: str, port: int, path: str, *, userinfo: str, shown: str
    ) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path  # path and query, as sent on the request line
        self.userinfo = userinfo
        self.shown = shown  # scheme://host:port/path, safe to print


def redact_url(url: str) -> str:
    """``url`` safe to print, even when it is malformed: no credentials, query or fragment."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    rest = rest.partition("#")[0].partition("?")[0]
    authority, slash, path = rest.partition("/")
    authority = authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{path}"


def judge(code: int, reason: str, *, accept_redirects: bool = False) -> str | None:
    """None when ``code`` is healthy, else the one-line reason it is not."""
    if 200 <= code < 300 or (accept_redirects and 300 <= code < 400):
        return None
    answered = f"answered {code} {reason}".rstrip()
    if 300 <= code < 400:
        return f"{answered}: a redirect is not a health answer"
    return answered


def parse_url(url: str) -> Target:
    """Split an ``http://`` or ``https://`` URL; raises :class:`ProbeError` when it is not one."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        raise ProbeError("the URL must start with http:// or https://")
    rest = rest.partition("#")[0]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, path = rest[:cut], rest[cut:]
    userinfo, _, hostport = authority.rpartition("@")
    if hostport.startswith("["):  # IPv6 literal: [::1]:8000
        host, bracket, after = hostport[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            raise ProbeError("the URL has a malformed IPv6 address")
        port_text = after[1:]
    else:
        host, _, port_text = hostport.partition(":")
    if not host:
        raise ProbeError("the URL has no host")
    default_port = 443 if scheme == "https" else 80
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ProbeError("the URL has an invalid port")
        port = int(port_text)
    else:
        port = default_port
    if not path.startswith("/"):
        path = "/" + path
    if any(ch in path for ch in " \r\n\t"):
        raise ProbeError("the URL path contains whitespace")
    shown_host = f"[{host}]" if ":" in host else host
    shown = f"{scheme}://{shown_host}:{port}{path.partition('?')[0]}"
    return Target(scheme, host, port, path, userinfo=userinfo, shown=shown)


def fetch_status(
    target: Target,
    *,
    timeout: float,
    headers: Sequence[str] = (),
    verify: bool = True,
) -> tuple[int, str]:
    """Send one GET and return ``(status code, reason phrase)``.

    ``timeout`` bounds the whole exchange (connect, TLS handshake, send, and
    reading the status line), not each step.  Raises :class:`ProbeError`
    with a one-line reason for anything but a well-formed status line.
    """
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    try:
        # An ASCII host goes to getaddrinfo as bytes: a str would be encoded with
        # the "idna" codec, whose import costs more than the whole request.
        host: str | bytes = target.host.encode("ascii") if target.host.isascii() else target.host
        sock = _connect(host, target.port, remaining())
    except TimeoutError:
        raise ProbeError(f"no connection within {timeout:g} s") from None
    except ConnectionRefusedError:
        raise ProbeError("connection refused") from None
    except _socket.gaierror:
        raise ProbeError("the host name does not resolve") from None
    except OSError as exc:
        raise ProbeError(f"cannot connect: {exc.strerror or type(exc).__name__}") from None
    try:
        if target.scheme == "https":
            sock = _wrap_tls(sock, target.host, verify, remaining())
        sock.settimeout(remaining())
        sock.sendall(_request(target, headers))
        return _read_status(sock, remaining)
    except TimeoutError:
        raise ProbeError(f"no answer within {timeout:g} s") from None
    except ConnectionError:
        raise ProbeError("the server closed the connection") from None
    except OSError as exc:
        raise ProbeError(f"request failed: {exc.strerror or type(exc).__name__}") from None
    finally:
        sock.close()


def _connect(host: str | bytes, port: int, timeout: float) -> _socket.socket:
    """``socket.create_connection`` on the C module: each address in turn, the last error."""
    error: OSError | None = None
    for family, kind, proto, _, address in _socket.getaddrinfo(host, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error or OSError("getaddrinfo returned no address")


def _wrap_tls(raw: _socket.socket, host: str, verify: bool, timeout: float) -> _socket.socket:
    import socket  # noqa: PLC0415 - only https pays for socket.py (ssl imports it anyway)
    import ssl  # noqa: PLC0415 - only https pays for importing ssl

    sock = socket.socket(raw.family, raw.type, raw.proto, fileno=raw.detach())

    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    sock.settimeout(timeout)
    try:
        return context.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError:
        raise ProbeError("TLS certificate verification failed (see --insecure)") from None
    except ssl.SSLError as exc:
        raise ProbeError(f"TLS handshake failed: {exc.reason or 'SSLError'}") from None


def _request(target: Target, headers: Sequence[str]) -> bytes:
    host = f"[{target.host}]" if ":" in target.host else target.host
    if target.port != (443 if target.scheme == "https" else 80):
        host = f"{host}:{target.port}"
    lines = [
        f"GET {target.path} HTTP/1.1",
        f"Host: {host}",
        "User-Agent: healthprobe-probe",
        "Accept: */*",
        "Connection: close",
    ]
    if target.userinfo and not any(h.lower().startswith("authorization:") for h in headers):
        import base64  # noqa: PLC0415 - only a URL with user:password pays for it
        from urllib.parse import unquote  # noqa: PLC0415 - likewise

        token = base64.b64encode(unquote(target.userinfo).encode()).decode("ascii")
        lines.append(f"Authorization: Basic {token}")
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_status(sock: _socket.socket, remaining: Callable[[], float]) -> tuple[int, str]:
    data = b""
    while b"\r\n" not in data:
        if len(data) > _MAX_STATUS_LINE:
            raise ProbeError("the answer is not HTTP (no status line)")
        sock.settimeout(remaining())
        chunk = sock.recv(4096)
        if not chunk:
            if not data:
                raise ProbeError("the server closed the connection without answering")
            break
        data += chunk
    line = data.partition(b"\r\n")[0].decode("latin-1")
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/") or len(code) != 3 or not code.isdigit():
        raise ProbeError("the answer is not HTTP (malformed status line)")
    return int(code), reason.strip()[:100]  # the server's text: keep the line short


# One flat loop over the options reads better than helpers (and beats argparse's import).
def _parse_args(  # noqa: PLR0912
    argv: Sequence[str],
) -> tuple[str, float, list[str], bool, bool, bool]:
    url: str | None = None
    timeout = DEFAULT_TIMEOUT
    headers: list[str] = []
    quiet = False
    verify = True
    redirects = False
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        takes_value = name in ("--timeout", "--header", "-H")
        if takes_value:
            if eq:
                value = inline
            elif i + 1 < len(args):
                i += 1
                value = args[i]
            else:
                raise ProbeError(f"{name} needs a value")
            if name == "--timeout":
                timeout = _seconds(value)
            else:
                headers.append(_header(value))
        elif arg in ("-q", "--quiet"):
            quiet = True
        elif arg in ("-k", "--insecure"):
            verify = False
        elif arg == "--accept-redirects":
            redirects = True
        elif arg.startswith("-") and arg != "-":
            raise ProbeError(f"unknown option {arg}")
        elif url is None:
            url = arg
        else:
            raise ProbeError("probe takes exactly one URL")
        i += 1
    if url is None:
        raise ProbeError("a URL is required, e.g. healthprobe probe http://127.0.0.1:8000/livez")
    return url, timeout, headers, quiet, verify, redirects


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not 0 < number < float("inf"):
        raise ProbeError("--timeout must be a positive number of seconds")
    return number


def _header(value: str) -> str:
    # The value is never echoed: it is usually a token.
    name, colon, _ = value.partition(":")
    if not colon or not name.strip() or name != name.strip() or any(c in value for c in "\r\n"):
        raise ProbeError("--header must look like 'Name: value' on one line")
    return value


def main(argv: Sequence[str]) -> int:
    """Run ``healthprobe probe`` with ``argv`` (the arguments after ``probe``)."""
    if any(arg in ("-h", "--help") for arg in argv):
        sys.stdout.write(USAGE)
        return 0
    quiet = any(arg in ("-q", "--quiet") for arg in argv)
    shown = "probe"
    try:
        url, timeout, headers, quiet, verify, redirects = _parse_args(argv)
        target = parse_url(url)
        shown = target.shown
        code, reason = fetch_status(target, timeout=timeout, headers=headers, verify=verify)
    except ProbeError as exc:
        if not quiet:
            sys.stderr.write(f"healthprobe: {shown}: {exc}\n")
        return 1
    problem = judge(code, reason, accept_redirects=redirects)
    if problem is None:
        return 0
    if not quiet:
        sys.stderr.write(f"healthprobe: {shown}: {problem}\n")
    return 1
