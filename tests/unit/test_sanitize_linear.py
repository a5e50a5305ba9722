"""Scrubbing is linear in the length of the text (issue 17.2), up to a megabyte.

The scrubber runs on the event loop for every reading; the patterns it had
were quadratic (20k characters took 0.7 s, 100k took 14-19 s), so one
downstream answering with a large body froze the whole service.  These
properties time the scrubber on a text of n and of 4n characters built from
the fragments its patterns care about, with every pattern seeing the whole
text (``max_length`` as large as the text, so no cap hides the patterns'
cost); 4n may cost about 4x, never the 16x of a quadratic pattern.  The
bound is generous (the machine is shared); the figures are in
docs/benchmarks.md (``benchmarks/sanitize.py``).
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthprobe import sanitize

pytestmark = pytest.mark.timeout(300)

# What the patterns look for, and the near misses that make a backtracking
# pattern retry at every position.
FRAGMENTS = [
    "A",
    "a",
    "0",
    "-",
    "_",
    " ",
    "\n",
    "\t",
    ":",
    "=",
    "@",
    "/",
    "//",
    "://",
    '"',
    "'",
    ",",
    "password",
    "pwd",
    "token",
    "auth",
    "api_key",
    "Bearer ",
    "Basic",
    "Error",
    "AuthenticationError: ",
    "postgresql://app:pw",
    "redis://",
    "Traceback (most recent call last):\n",
]

units = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12).map("".join)
sizes = st.sampled_from([16 * 1024, 64 * 1024, 256 * 1024])


def _seconds(text: str, max_length: int) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        sanitize(text, ["S3cret-value", "db"], max_length=max_length)
        best = min(best, time.perf_counter() - started)
    return best


def _repeat(unit: str, n: int) -> str:
    return (unit * (n // len(unit) + 1))[:n]


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(unit=units, n=sizes)
def test_scrubbing_the_whole_text_is_linear(unit: str, n: int) -> None:
    small = _seconds(_repeat(unit, n), max_length=n)
    large = _seconds(_repeat(unit, 4 * n), max_length=4 * n)
    # Linear: ~4x.  Quadratic: ~16x.  Generous for a loaded 2-core machine.
    assert large <= 10 * small + 0.1, (unit, n, small, large)


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(unit=units, n=sizes)
def test_with_the_default_cap_the_cost_does_not_grow_with_the_text(unit: str, n: int) -> None:
    small = _seconds(_repeat(unit, n), max_length=500)
    large = _seconds(_repeat(unit, 4 * n), max_length=500)
    # Only str.replace and one slice see the whole text: large costs about what small does.
    assert large <= 3 * small + 0.05, (unit, n, small, large)
    assert len(sanitize(_repeat(unit, 4 * n))) <= 500
