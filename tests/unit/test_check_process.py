"""OpenFilesCheck and ThreadsCheck on this very process: the test opens fds and threads."""

from __future__ import annotations

import os
import resource
import threading
from collections.abc import Iterator

import pytest

from healthprobe import ConfigurationError, Health, Status
from healthprobe.checks.process import OpenFilesCheck, ThreadsCheck, os_thread_count

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def opened() -> Iterator[list[int]]:
    fds: list[int] = []
    yield fds
    for fd in fds:
        os.close(fd)


def test_open_files_counts_exactly_what_the_process_opens(opened: list[int]) -> None:
    check = OpenFilesCheck(used_warn=None, used_fail=None)
    before = check.check().details["open"]
    opened.extend(os.open(os.devnull, os.O_RDONLY) for _ in range(40))
    after = check.check()
    assert after.details["open"] == before + 40
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert after.details["limit"] == (None if soft == resource.RLIM_INFINITY else soft)


def test_open_files_warn_and_fail_as_the_count_nears_the_limit(opened: list[int]) -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        pytest.skip("no soft limit on open files here")
    check = OpenFilesCheck(used_warn=None, used_fail=None)
    base = check.check().details["open"]
    # Thresholds just above today's count, then open descriptors across them.
    warn_at = 100.0 * (base + 20) / soft
    fail_at = 100.0 * (base + 40) / soft
    graded = OpenFilesCheck(used_warn=warn_at, used_fail=fail_at)
    assert graded.check().status is Status.PASS
    opened.extend(os.open(os.devnull, os.O_RDONLY) for _ in range(25))
    warned = graded.check()
    assert warned.status is Status.WARN, warned.output
    assert warned.observed_unit == "percent"
    opened.extend(os.open(os.devnull, os.O_RDONLY) for _ in range(20))
    failed = graded.check()
    assert failed.status is Status.FAIL, failed.output
    assert f"of {soft} file descriptors open" in failed.output


def test_open_files_through_the_engine() -> None:
    health = Health()
    health.add(OpenFilesCheck())
    result = health.run(None).checks["open_files"].result
    health.stop()
    assert result.status is Status.PASS, result.output
    assert result.component_type == "system"


class Parked:
    """Threads waiting on one event, released (and joined) when the test ends."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, count: int) -> None:
        for _ in range(count):
            thread = threading.Thread(target=self.release.wait, args=(10,), daemon=True)
            thread.start()
            self.threads.append(thread)


@pytest.fixture
def parked() -> Iterator[Parked]:
    threads = Parked()
    yield threads
    threads.release.set()
    for thread in threads.threads:
        thread.join(5)


@pytest.mark.parametrize("source", ["os", "python"])
def test_threads_count_and_thresholds(source: str, parked: Parked) -> None:
    if source == "os" and os_thread_count() is None:
        pytest.skip("no OS thread count here")
    base = ThreadsCheck(source=source).check()  # type: ignore[arg-type]  # parametrized
    assert base.status is Status.PASS
    assert base.details["source"] == source
    count = base.observed_value
    assert isinstance(count, int)
    # Margins: other threads of the test process (gRPC's, the engine's) may come and go.
    graded = ThreadsCheck(warn=count + 5, fail=count + 25, source=source)  # type: ignore[arg-type]
    parked.start(12)
    warned = graded.check()
    assert warned.status is Status.WARN, warned.output
    assert isinstance(warned.observed_value, int)
    assert abs(warned.observed_value - (count + 12)) <= 5
    parked.start(20)
    failed = graded.check()
    assert failed.status is Status.FAIL, failed.output
    assert failed.observed_unit == "threads"


def test_bad_options_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="warn"):
        ThreadsCheck(warn=100, fail=50)
    with pytest.raises(ConfigurationError, match="source"):
        ThreadsCheck(source="kernel")  # type: ignore[arg-type]  # the mistake under test
    with pytest.raises(ConfigurationError, match="used_fail"):
        OpenFilesCheck(used_fail=120)
