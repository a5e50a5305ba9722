"""The status page: self-contained, strict CSP with a fresh nonce, escaped, reasons by policy."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from healthprobe import CheckResult, Health, Status
from healthprobe.observability import History, render_status_page, status_page

EVIL = '<script>alert("x")</script> & "quotes"'


class Collector(HTMLParser):
    """Collects every start tag with its attributes, and checks that tags nest properly."""

    VOID = frozenset({"meta", "br", "circle", "polyline", "link", "img", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes nothing"
        assert self.stack.pop() == tag, f"</{tag}> closes the wrong element"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Collector:
    parser = Collector()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    return parser


async def make_health() -> Health:
    health = Health(version="1.2.3<b>")
    health.add(lambda: True, name="db")
    health.add(lambda: CheckResult.failed(EVIL), name="cache", critical=False)
    History.of(health)
    for _ in range(5):
        await health.arun()
    health.lifecycle.mark_started()  # as the HTTP layer does after the app's startup
    return health


@pytest.mark.asyncio
async def test_page_shows_overall_each_check_sparklines_and_uptime() -> None:
    health = await make_health()
    page, headers = status_page(health, show_reasons=True)
    doc = parse(page)
    rows = {
        a["data-check"]: a["data-status"] for t, a in doc.tags if t == "tr" and "data-check" in a
    }
    assert rows == {"db": "pass", "cache": "fail"}
    overall = next(a for t, a in doc.tags if a.get("id") == "overall")
    assert overall["data-status"] == "warn"  # a non-critical failure degrades
    sparks = {a["data-check"]: a["data-points"] for t, a in doc.tags if t == "svg"}
    assert sparks == {"db": "5", "cache": "5"}
    assert sum(1 for t, a in doc.tags if t == "circle" and a.get("class") == "pt-fail") == 5
    text = "".join(doc.text)
    assert "100.0 %" in text  # db's uptime
    assert "0.0 %" in text  # cache's
    assert "(non-critical)" in text
    assert EVIL in text  # the reason is shown, as text
    refresh = next(a for t, a in doc.tags if a.get("http-equiv") == "refresh")
    assert refresh["content"] == "10"
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.asyncio
async def test_everything_is_escaped() -> None:
    health = await make_health()
    page, _ = status_page(health, show_reasons=True, title='<img src=x onerror="boom">')
    assert "<script>" not in page
    assert "<img" not in page
    assert "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;" in page


@pytest.mark.asyncio
async def test_reasons_are_withheld_unless_the_policy_allows() -> None:
    health = await make_health()
    page, _ = status_page(health, show_reasons=False)
    assert "alert" not in page
    assert "reason withheld" in page


@pytest.mark.asyncio
async def test_strict_csp_with_a_fresh_nonce_and_no_external_or_script_content() -> None:
    health = await make_health()
    page, headers = status_page(health)
    _, headers_again = status_page(health)
    csp = headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce is not None
    assert len(nonce.group(1)) >= 16
    assert nonce.group(1) not in headers_again["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'none'" in csp
    assert "unsafe-inline" not in csp
    doc = parse(page)
    styles = [a for t, a in doc.tags if t == "style"]
    assert styles == [{"nonce": nonce.group(1)}]
    for tag, attrs in doc.tags:
        assert tag not in ("script", "link", "img", "iframe", "object")
        assert "style" not in attrs  # inline style attributes would need 'unsafe-inline'
        assert "src" not in attrs
        assert "href" not in attrs
        assert not any(name.startswith("on") for name in attrs)
    assert "http://" not in page
    assert "https://" not in page
    assert headers["Content-Type"] == "text/html; charset=utf-8"


def test_before_any_reading_the_page_still_renders() -> None:
    health = Health()
    health.add(lambda: True, name="db")
    page = render_status_page(health, nonce="n0nce")
    doc = parse(page)
    rows = {
        a["data-check"]: a["data-status"] for t, a in doc.tags if t == "tr" and "data-check" in a
    }
    assert rows == {"db": "unknown"}
    assert "no readings yet" in page
    assert "never" in page


@pytest.mark.asyncio
async def test_the_process_lifecycle_shows_in_the_overall_status() -> None:
    health = await make_health()
    health.lifecycle.begin_drain()
    page, _ = status_page(health)
    doc = parse(page)
    overall = next(a for t, a in doc.tags if a.get("id") == "overall")
    assert overall["data-status"] == "fail"
    assert "process draining" in "".join(doc.text)
    ready = next(a for t, a in doc.tags if a.get("data-probe") == "ready")
    assert ready["class"] == "status-fail"


def test_a_health_without_checks_says_so() -> None:
    assert "No checks are registered." in render_status_page(Health(), nonce="n")


@pytest.mark.asyncio
async def test_without_checks_only_the_statuses_are_shown() -> None:
    health = await make_health()
    page, _ = status_page(health, show_checks=False)
    assert "Check details are not shown here." in page
    assert "data-check" not in page
    assert "cache" not in page
    assert 'id="overall"' in page


def test_the_timeline_has_one_mark_per_reading_coloured_by_status() -> None:
    from healthprobe.observe.history import Entry
    from healthprobe.observe.status_page import timeline

    now = dt.datetime.now(dt.timezone.utc)
    entries = tuple(
        Entry(now, status, 0.01)
        for status in (Status.PASS, Status.FAIL, Status.WARN, Status.UNKNOWN, Status.PASS)
    )
    svg = timeline(entries, "db")
    assert 'data-points="5"' in svg
    classes = re.findall(r'<rect class="tl-(\w+)"', svg)
    assert classes == ["pass", "fail", "warn", "unknown", "pass"]
    assert "<script" not in svg
    assert "no readings yet" in timeline((), "db")
