"""Tests here drive real processes under ptrace."""

import pytest

from tests.support.ptrace_check import live_children, require_ptrace


@pytest.fixture(autouse=True)
def _ptrace_and_no_orphans():
    require_ptrace()
    before = set(live_children())
    yield
    left = set(live_children()) - before
    assert not left, f"test left child processes behind: {sorted(left)}"
