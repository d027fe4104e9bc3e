"""`list`, `directory`, `set substitute-path` and missing source files, against gdb."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from pydbg.engine.source import ErrorText, SourceManager, SourceRef
from pydbg.errors import CommandError
from tests.support.build import FIXTURES, VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg

# ----------------------------------------------------------------------------- engine


def _write(path, n: int) -> None:
    path.write_text("".join(f"line {i}\n" for i in range(1, n + 1)))


def test_comp_dir_from_names() -> None:
    assert SourceRef("t.c", "/src/proj/t.c").comp_dir == "/src/proj"
    assert SourceRef("sub/t.c", "/src/proj/sub/t.c").comp_dir == "/src/proj"
    assert SourceRef("/usr/include/stdio.h", "/usr/include/stdio.h").comp_dir is None


def test_listing_positions(tmp_path) -> None:
    _write(tmp_path / "t.c", 30)
    sm = SourceManager()
    ref = SourceRef("t.c", str(tmp_path / "t.c"))
    assert sm.list_around(ref, 12)[0] == "7\tline 7"          # centred: 5 before
    assert sm.list_forward()[0] == "17\tline 17"              # then the next ten
    assert sm.list_backward()[-1] == "16\tline 16"            # the ten before the last
    assert [s.split("\t")[0] for s in sm.list_range(ref, 28, 40)] == ["28", "29", "30"]
    with pytest.raises(CommandError, match="Line number 31 out of range; t.c has 30 lines."):
        sm.list_forward()
    sm.list_around(ref, 2)
    with pytest.raises(CommandError, match="Already at the start of t.c."):
        sm.list_backward()
    sm.stop_line(ref, 20)                                     # a stop centres the next list
    assert sm.list_forward()[0] == "15\tline 15"


def test_missing_file_reported_once(tmp_path) -> None:
    sm = SourceManager()
    ref = SourceRef("gone.c", str(tmp_path / "gone.c"))
    first = sm.stop_line(ref, 9)
    assert isinstance(first, ErrorText) and first == "9\tgone.c: No such file or directory."
    assert sm.stop_line(ref, 10) == "10\tin gone.c"


def test_directory_and_substitute_path(tmp_path) -> None:
    moved = tmp_path / "moved"
    moved.mkdir()
    _write(moved / "t.c", 3)
    ref = SourceRef("t.c", str(tmp_path / "old" / "t.c"))
    sm = SourceManager()
    assert sm.lines(ref) is None
    sm.set_substitution(str(tmp_path / "old"), str(moved))
    assert sm.lines(ref) == ["line 1", "line 2", "line 3"]
    sm.unset_substitution(None)
    assert sm.lines(ref) is None
    sm.add_directories([str(moved)])
    assert sm.directories == [str(moved), "$cdir", "$cwd"]
    assert sm.lines(ref) == ["line 1", "line 2", "line 3"]
    assert sm.directories_text() == f"Source directories searched: {moved}:$cdir:$cwd"


# ----------------------------------------------------------------------------- vs gdb

def _compare(exe, commands, cwd=FIXTURES, compare_stderr=True):
    expected = run_gdb(exe, commands, cwd=cwd)
    got = run_pydbg(exe, commands, cwd=cwd)
    assert normalize(got.stdout, frame_args=False) == normalize(expected.stdout,
                                                                frame_args=False)
    if compare_stderr:
        assert got.stderr.strip() == expected.stderr.strip()
    return got


LISTINGS = {
    "default-and-continue": ["list", "list", "list -", "list -", "list -"],
    "functions-and-lines": ["list square", "list 60", "list stepping.c:3", "list -",
                            "list factorial", "list", "list 75,", "list", "list -"],
    "ranges": ["list 1,5", "list ,20", "list square,factorial", "list 200", "list nosuch",
               "list nosuch.c:3"],
    "after-stops": ["break factorial", "run", "list", "list", "up", "list", "frame 0",
                    "list -", "next", "list"],
}


@pytest.mark.parametrize("scenario", sorted(LISTINGS))
@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_list_matches_gdb(scenario: str, variant: str) -> None:
    _compare(build("stepping.c", VARIANTS[variant]), LISTINGS[scenario])


def test_list_header_and_second_file() -> None:
    exe = build(["inline_frames.c", "inline_frames_b.c"], VARIANTS["O0"])
    _compare(exe, ["list header_twice", "list inline_frames_b.c:1", "list other_file",
                   "list inline_frames.h:9", "list"])


@pytest.fixture()
def moved_source(tmp_path):
    """stepping.c compiled in tmp_path/build, then the source moved to tmp_path/moved."""
    build_dir = tmp_path / "build"
    moved = tmp_path / "moved"
    build_dir.mkdir()
    moved.mkdir()
    shutil.copy(FIXTURES / "stepping.c", build_dir / "stepping.c")
    subprocess.run(["gcc", "-g", "-O0", "-o", "prog", "stepping.c"], cwd=build_dir,
                   check=True)
    shutil.move(str(build_dir / "stepping.c"), moved / "stepping.c")
    return build_dir / "prog", build_dir, moved, tmp_path


def test_missing_source_messages_match_gdb(moved_source) -> None:
    exe, build_dir, moved, cwd = moved_source
    _compare(exe, ["list square", "list", "break square", "run", "next", "list", "bt",
                   "up", "frame 0"], cwd=cwd)


def test_directory_finds_moved_source(moved_source) -> None:
    exe, build_dir, moved, cwd = moved_source
    _compare(exe, ["list square", f"directory {moved}", "list square", "show directories",
                   "break square", "run", "frame", "directory", "show directories"],
             cwd=cwd)


def test_substitute_path_finds_moved_source(moved_source) -> None:
    exe, build_dir, moved, cwd = moved_source
    _compare(exe, [f"set substitute-path {build_dir} {moved}", "show substitute-path",
                   "list 3", "break 10", "run", "next",
                   f"unset substitute-path {build_dir}", "show substitute-path"], cwd=cwd)
    assert os.path.exists(moved / "stepping.c")
