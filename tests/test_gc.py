from __future__ import annotations

import gc
import threading

import pytest

from pack._gc import collector_paused


@pytest.fixture(autouse=True)
def _collector_enabled():
    assert gc.isenabled()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_back_on_after_even_on_error():
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_overlapping_pauses_of_two_threads_end_with_the_last():
    first_in, second_done = threading.Event(), threading.Event()
    seen = {}

    def first():
        with collector_paused():
            first_in.set()
            second_done.wait(10)
            seen["first, after the second ended"] = gc.isenabled()

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    with collector_paused():
        assert not gc.isenabled()
    second_done.set()
    thread.join(10)
    assert seen == {"first, after the second ended": False}
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    with collector_paused(), collector_paused():
        pass
    assert not gc.isenabled()
