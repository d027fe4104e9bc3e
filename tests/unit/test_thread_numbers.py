"""gdb's thread numbers (engine/threads.py) on a stand-in process: creation order, never
reused, kept by a thread whose exit the process reported first."""

from __future__ import annotations

from pydbg.engine.threads import ThreadList


class _Process:
    def __init__(self) -> None:
        self.pid = 100
        self.threads: dict[int, object] = {100: object()}
        self.is_alive = True


class _Target:
    def __init__(self) -> None:
        self.process = _Process()


def test_an_exited_thread_keeps_its_number_and_the_next_one_follows():
    target = _Target()
    threads = ThreadList(target)
    threads.reset()
    for tid in (101, 102):
        target.process.threads[tid] = object()
        threads.on_thread("new", tid)
    del target.process.threads[101]          # the process layer drops it first
    threads.on_thread("exited", 101)
    target.process.threads[103] = object()
    threads.on_thread("new", 103)
    assert [(t.number, t.tid) for t in threads.all()] == [(1, 100), (3, 102), (4, 103)]


def test_a_thread_that_exits_unannounced_still_takes_a_number():
    target = _Target()
    threads = ThreadList(target)
    threads.reset()
    threads.on_thread("exited", 101)         # never seen alive: gdb numbered it at clone
    target.process.threads[102] = object()
    threads.on_thread("new", 102)
    assert [(t.number, t.tid) for t in threads.all()] == [(1, 100), (3, 102)]
