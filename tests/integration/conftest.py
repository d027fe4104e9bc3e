"""Tests here drive real processes under ptrace."""

from tests.support.ptrace_check import ptrace_and_no_orphans  # noqa: F401  (autouse fixture)
