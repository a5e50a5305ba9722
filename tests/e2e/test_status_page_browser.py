"""The status page in a real headless Chromium: DOM and screenshot of a passing and a failing check.

The screenshot is decoded (a small PNG reader below) to prove that the
page's own style element was applied under its strict CSP: the failing
check's red badge is on the picture.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import time
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES
from tests.e2e._processes import observed_app

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1200,700",
]  # fmt: skip
FAIL_RED = (0xCF, 0x22, 0x2E)  # --fail in the page's CSS
PASS_GREEN = (0x1A, 0x7F, 0x37)  # --pass


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "chromium is not installed (Debian package chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return path


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{time.monotonic_ns()}"
    return subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inside: list[str] = []
        self.rows: dict[str, dict[str, object]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag == "tr" and found.get("data-check"):
            name = str(found["data-check"])
            self.rows[name] = {
                "status": found.get("data-status"),
                "svg": None,
                "timeline": None,
                "lines": 0,
                "marks": [],
            }
            self.inside = [name]
        elif tag == "svg" and self.inside:
            kind = "timeline" if found.get("class") == "timeline" else "svg"
            self.rows[self.inside[0]][kind] = found
        elif tag == "polyline" and self.inside:
            self.rows[self.inside[0]]["lines"] = 1
        elif tag == "rect" and self.inside:
            marks = self.rows[self.inside[0]]["marks"]
            assert isinstance(marks, list)
            marks.append(found.get("class"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self.inside = []


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG into (width, height, pixels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, interlace) == (8, 0)
            assert color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    pixels: list[tuple[int, int, int]] = []
    for row in range(height):
        start = row * (stride + 1)
        method, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if method == 1:
                line[i] = (line[i] + left) & 0xFF
            elif method == 2:
                line[i] = (line[i] + up) & 0xFF
            elif method == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif method == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        pixels.extend((line[i], line[i + 1], line[i + 2]) for i in range(0, stride, channels))
        previous = line
    return width, height, pixels


def near(pixel: tuple[int, int, int], color: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(pixel, color, strict=True))


def test_status_page_in_headless_chromium(tmp_path: Path) -> None:
    with observed_app(tmp_path) as app:
        time.sleep(1.5)  # the checks are polled every 0.2 s: let the history fill
        url = f"{app}/health/ui"
        dumped = run_chromium(tmp_path, "--dump-dom", url)
        shot = tmp_path / "status.png"
        taken = run_chromium(tmp_path, f"--screenshot={shot}", url)
        badge_url = f"{app}/health/badge/check/search.svg"
        badge_dom = run_chromium(tmp_path, "--dump-dom", badge_url)
        badge_shot = tmp_path / "badge.png"
        badge_taken = run_chromium(tmp_path, f"--screenshot={badge_shot}", badge_url)
    assert dumped.returncode == 0, dumped.stderr[-3000:]
    dom = Dom()
    dom.feed(dumped.stdout)
    assert dom.rows["database"]["status"] == "pass"
    assert dom.rows["search"]["status"] == "fail"
    for name in ("database", "search"):
        svg = dom.rows[name]["svg"]
        assert isinstance(svg, dict), dom.rows
        assert svg["class"] == "sparkline"
        assert int(str(svg["data-points"])) >= 3
        assert dom.rows[name]["lines"] == 1
        # The status timeline: one mark per reading, coloured by its status.
        line = dom.rows[name]["timeline"]
        assert isinstance(line, dict), dom.rows
        marks = dom.rows[name]["marks"]
        assert isinstance(marks, list)
        assert len(marks) == int(str(line["data-points"])) >= 3
    for name, colour in (("database", "tl-pass"), ("search", "tl-fail")):
        marks = dom.rows[name]["marks"]
        assert isinstance(marks, list)
        assert set(marks) == {colour}
    overall = next(a for t, a in dom.tags if a.get("id") == "overall")
    assert overall["data-status"] in ("warn", "fail")

    assert taken.returncode == 0, taken.stderr[-3000:]
    data = shot.read_bytes()
    assert len(data) > 10_000
    width, height, pixels = png_pixels(data)
    assert (width, height) == (1200, 700)
    assert len(set(pixels[::7])) > 50  # a real page, not a blank one
    assert sum(near(p, FAIL_RED) for p in pixels) > 200  # the styled "unhealthy" badge
    assert sum(near(p, PASS_GREEN) for p in pixels) > 200  # and the "healthy" one

    # The badge, rendered by Chromium as an SVG document: the failing check on red.
    assert badge_dom.returncode == 0, badge_dom.stderr[-3000:]
    assert 'data-status="fail"' in badge_dom.stdout
    assert 'data-label="search"' in badge_dom.stdout
    assert badge_taken.returncode == 0, badge_taken.stderr[-3000:]
    _, _, badge_pixels = png_pixels(badge_shot.read_bytes())
    assert sum(near(p, FAIL_RED) for p in badge_pixels) > 200
