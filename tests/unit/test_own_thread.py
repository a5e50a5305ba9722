"""OwnThread: every call of a check on one thread, whichever thread calls; stop() ends it."""

from __future__ import annotations

import threading

import pytest

from healthprobe.checks._own_thread import OwnThread

pytestmark = pytest.mark.timeout(30)


def test_calls_from_many_threads_run_on_one_thread_in_turn() -> None:
    own = OwnThread("healthprobe:test:own")
    seen: list[int] = []

    def caller() -> None:
        seen.append(own.call(threading.get_ident))

    callers = [threading.Thread(target=caller) for _ in range(8)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join(5)
    assert len(seen) == 8
    assert set(seen) == {own.ident}
    assert own.ident != threading.get_ident()
    own.stop()


def test_an_error_reaches_the_caller_and_the_thread_goes_on() -> None:
    own = OwnThread("healthprobe:test:own")

    def broken() -> None:
        raise RuntimeError("driver said no")

    with pytest.raises(RuntimeError, match="driver said no"):
        own.call(broken)
    assert own.call(lambda: 42) == 42
    own.stop()


def test_stop_ends_the_thread_and_a_later_call_starts_another() -> None:
    own = OwnThread("healthprobe:test:stopped")
    first = own.call(threading.get_ident)
    own.stop()
    stopped = own.ident
    assert stopped is None

    def names() -> list[str]:
        return [t.name for t in threading.enumerate()]

    for _ in range(100):
        if "healthprobe:test:stopped" not in names():
            break
        threading.Event().wait(0.01)
    assert "healthprobe:test:stopped" not in names()
    second = own.call(threading.get_ident)
    assert own.ident == second
    assert isinstance(first, int)
    own.stop()
