"""step / next / finish / until / advance / stepi / nexti against gdb on the same programs.

gdb runs with its default settings, so libc's separate debug info (when installed) makes
`step` enter libc functions that have line information, exactly as it does for users.
"""

from __future__ import annotations

import re

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg

STEPPING_FLAGS = dict(VARIANTS)
STEPPING_FLAGS["O2-omit-fp"] = ["-O2", "-fomit-frame-pointer"]
STEPPING_FLAGS["O0-omit-fp"] = ["-O0", "-fomit-frame-pointer"]


def _clean(text: str) -> str:
    text = re.sub(r"(?m)^((?:Temporary )?Breakpoint \d+\.\d+, )([\w.@]+) \(.*?\)( at |$)",
                  r"\1\2 (...)\3", text)
    return normalize(text, frame_args=False)


def compare(exe, commands: list[str]) -> str:
    expected = run_gdb(exe, commands)
    got = run_pydbg(exe, commands)
    assert _clean(got.stdout) == _clean(expected.stdout)
    assert got.stderr.strip() == expected.stderr.strip()
    return got.stdout


SEQUENCES = {
    # Into functions with line info, over libc calls, recursion, return to the caller.
    "step-everything": ["break main", "run"] + ["step"] * 40,
    "next-through-main": ["break main", "run"] + ["next"] * 14,
    # `next` over a recursive call stays in the frame it started in.
    "recursion": ["break factorial", "run", "delete", "next", "next", "next", "bt", "step",
                  "step", "bt", "finish", "next", "next", "finish"],
    "finish-values": ["break square", "break half", "break third", "break name_of",
                      "run", "finish", "continue", "finish", "continue", "finish",
                      "continue", "finish"],
    "until-and-advance": ["break sum_loop", "run", "next", "next", "next", "next", "until",
                          "until", "advance 43", "until 78"],
    "stepi-nexti": ["break main", "run", "stepi", "stepi", "nexti", "nexti", "stepi 4",
                    "nexti 3", "stepi", "bt", "finish"],
    "step-counts": ["break main", "run", "next 3", "step 3", "next 2", "finish"],
    # A breakpoint inside a function being stepped over or finished is reported.
    "breakpoints-while-stepping": ["break main", "break square", "run", "next",
                                   "finish", "break factorial", "next", "bt", "finish",
                                   "finish", "finish", "continue"],
    # Selected frame: finish from an outer frame, up then finish.
    "finish-selected-frame": ["break factorial if n == 1", "run", "up 2", "finish",
                              "bt", "up", "finish", "finish"],
    "step-off-main": ["break 77", "run", "next", "next", "next", "next"],
}


@pytest.mark.parametrize("scenario", sorted(SEQUENCES))
@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_stepping_sequences(scenario: str, variant: str) -> None:
    compare(build("stepping.c", STEPPING_FLAGS[variant]), SEQUENCES[scenario])


@pytest.mark.parametrize("variant", ["O0-nopie", "O2-nopie", "O2-omit-fp", "O0-omit-fp"])
def test_step_and_finish_other_builds(variant: str) -> None:
    compare(build("stepping.c", STEPPING_FLAGS[variant]),
            ["break main", "run", "step", "step", "bt", "finish", "next", "step", "step",
             "step", "until", "until", "next", "next", "next", "step", "step", "step",
             "finish", "next", "next"])


def test_step_into_libc_through_plt() -> None:
    """puts is reached through the PLT; strlen inside it through an ifunc'd PLT slot."""
    compare(build("stepping.c", VARIANTS["O0"]),
            ["break 74", "run", "step", "bt", "step", "step", "finish", "finish", "next",
             "step", "step", "step", "step", "step"])


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_finish_return_values(variant: str) -> None:
    names = ["int", "long", "uchar", "char", "bool", "short", "float", "double", "ldouble",
             "string", "pointer", "enum", "pair", "dpair", "mixed", "big", "void"]
    commands = [f"break ret_{n}" for n in names] + ["run", "finish"]
    commands += ["continue", "finish"] * (len(names) - 1)
    commands += ["p $", "p $$2", "p $3"]
    out = compare(build("finish_values.c", VARIANTS[variant]), commands)
    assert "Value returned is $1 = -42" in out


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_inline_stepping(variant: str) -> None:
    exe = build(["inline_frames.c", "inline_frames_b.c"], VARIANTS[variant])
    compare(exe, ["break main", "run"] + ["step"] * 24 + ["bt"])
    compare(exe, ["break main", "run"] + ["next"] * 6)
    compare(exe, ["break compute", "run", "bt", "step", "bt", "step", "bt", "finish", "bt",
                  "next", "next", "next"])
    compare(exe, ["break inner_inl", "break header_twice", "run", "finish", "continue",
                  "up", "finish", "continue", "finish", "bt", "finish"])


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_signal_arrives_while_stepping(variant: str) -> None:
    """`next` over raise() reports the signal; stepping on enters the handler and the
    trampoline leads back to the interrupted code."""
    exe = build("unwind.c", VARIANTS[variant])
    compare(exe, ["break main", "break signal_leaf", "run", "next", "next", "next", "bt",
                  "next", "bt", "finish", "finish", "next", "next", "next", "next"])


def test_header_inline_and_second_file_stepping() -> None:
    exe = build(["symtest_main.c", "symtest_util.c"], VARIANTS["O0"])
    compare(exe, ["break main", "run"] + ["step"] * 30 + ["bt", "finish", "until", "until",
                                                          "next", "next"])


def test_interactive_messages() -> None:
    """What gdb prints only for a terminal: `Run till exit from`, `More stack frames`."""
    from tests.support.session import Recorder
    rec = Recorder(build("stepping.c", VARIANTS["O0"]))
    try:
        rec.session.from_tty = True
        rec.run("break factorial if n == 2")
        rec.run("run")
        out = rec.run("finish")
        assert out.startswith("Run till exit from #0  factorial (n=2) at stepping.c:32\n")
        assert "Value returned is $1 = 2" in out
        assert rec.run("bt 1").endswith("(More stack frames follow...)\n")
        frames = rec.target.frames
        assert frames.selected_level == 0
        rec.run("up")
        assert rec.target.frames.selected_level == 1
        assert rec.session.selected_pc() == rec.target.frames.frame(1).pc
        rec.run("next")                       # a new stop selects frame 0 again
        assert rec.target.frames.selected_level == 0
    finally:
        rec.close()
