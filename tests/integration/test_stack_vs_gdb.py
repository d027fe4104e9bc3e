"""Backtraces, frame selection and `info frame` against gdb on the same programs.

Covers recursion, mutual recursion, a qsort callback (frames inside libc, its inlined
frames and a tail call), a signal handler (`<signal handler called>`), -O2 and
-fomit-frame-pointer code, inlined functions and a header-defined static inline function.
Frame arguments belong to the data layer, so they are blanked out before comparing.
"""

from __future__ import annotations

import re

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg

FLAGS = dict(VARIANTS)
FLAGS["O2-omit-fp"] = ["-O2", "-fomit-frame-pointer"]
FLAGS["O0-omit-fp"] = ["-O0", "-fomit-frame-pointer"]


def _clean(text: str) -> str:
    """Blank what the data layer prints (frame arguments), then gdb's usual noise."""
    text = re.sub(r"(?m)^((?:Temporary )?Breakpoint \d+\.\d+, )([\w.@]+) \(.*?\)( at |$)",
                  r"\1\2 (...)\3", text)
    text = normalize(text, frame_args=False)
    return re.sub(r"(?m)^( Arglist at \S+, args:).*$", r"\1 ...", text)


def compare(exe, commands: list[str]) -> str:
    expected = run_gdb(exe, commands)
    got = run_pydbg(exe, commands)
    assert _clean(got.stdout) == _clean(expected.stdout)
    assert got.stderr.strip() == expected.stderr.strip()
    return got.stdout


UNWIND = ["break unwind_leaf", "break signal_leaf", "run", "bt", "continue", "bt",
          "info frame", "up", "info frame", "p $pc", "p $sp", "continue", "bt",
          "frame 3", "info frame", "frame 12", "info frame", "p $pc", "p $sp", "p $rbx",
          "info registers rip", "frame 13", "info frame", "frame 14", "info frame",
          "down", "up 3", "bt -3", "bt 2", "frame 30", "up 40", "info frame", "up",
          "down 50", "down"]


@pytest.mark.parametrize("variant", sorted(FLAGS))
def test_unwind_fixture_backtraces(variant: str) -> None:
    out = compare(build("unwind.c", FLAGS[variant]), UNWIND)
    # The qsort callback's backtrace goes through libc back to main, and stops there.
    assert "<signal handler called>" in out
    assert re.search(r"in (__GI_)?qsort", out) or "qsort_r" in out
    assert "recurse" in out and "main" in out


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_inlined_frames(variant: str) -> None:
    exe = build(["inline_frames.c", "inline_frames_b.c"], VARIANTS[variant])
    out = compare(exe, ["break inner_inl", "break header_twice", "break other_file", "run",
                        "bt", "info frame", "up", "info frame", "up", "info frame",
                        "continue", "bt", "continue", "bt", "frame 1", "info frame",
                        "continue", "bt", "finish", "bt"])
    if variant == "O2":
        # Inlined frames are listed without an address, as gdb does.
        assert re.search(r"(?m)^#1  outer_inl \(", out)


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_break_on_function_with_inlined_body(variant: str) -> None:
    """`break compute` at -O2 stops where inlined calls begin: frame 0 is the caller."""
    exe = build(["inline_frames.c", "inline_frames_b.c"], VARIANTS[variant])
    compare(exe, ["break compute", "break ping", "run", "bt", "info frame", "continue",
                  "bt", "continue", "bt"])


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_header_static_inline_in_two_files(variant: str) -> None:
    exe = build(["symtest_main.c", "symtest_util.c"], VARIANTS[variant])
    compare(exe, ["break clamp", "info breakpoints", "run", "bt", "info frame", "up",
                  "info frame", "continue", "bt", "continue", "bt", "frame 1", "down"])


def test_frame_commands_without_a_process() -> None:
    exe = build("stepping.c", VARIANTS["O0"])
    compare(exe, ["bt", "frame", "frame 1", "up", "down", "info frame", "frame function main",
                  "finish", "step", "next", "until", "advance 10", "stepi"])


def test_stepping_fixture_frames_and_registers() -> None:
    exe = build("stepping.c", VARIANTS["O0"])
    compare(exe, ["break factorial if n == 1", "run", "bt", "frame 2", "info frame",
                  "p $rip", "p $sp", "p $rbp", "info registers rip rsp rbp", "frame function main",
                  "frame level 1", "up", "down 2", "frame", "bt 2", "bt -2", "bt full 1"])
