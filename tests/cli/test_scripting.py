"""gdb scripts (commands, dprintf, printf, define, if/while, source, python) run unchanged under
`pydbg -batch -x` and print what gdb prints (gdb runs the same script as the oracle)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import CLEAN_ENV, FIXTURES, REPO, _GDB_PREAMBLE, normalize

SCRIPTS = {
    "commands-silent-printf-continue": """
break add
break sub
commands 1 2
  silent
  if a > 0
    printf "pos %d, counter=%d\\n", a, counter
  else
    echo zero\\n
  end
  continue
end
info breakpoints
run
commands 2
end
info breakpoints
""",
    "commands-without-silent-then-continue": """
break sub
commands
  printf "in sub: a=%d b=%d\\n", a, b
  output a - b
  echo \\n
end
run
continue
""",
    "dprintf": """
dprintf add,"add(%d, %d) counter=%u greeting=%s %c|%5.1f|%-4x|\\n", a, b, counter, greeting, 65, 2.5, 255
dprintf basic.c:17,"sub %d %d\\n", a, b
info breakpoints
run
info breakpoints
""",
    "dprintf-and-breakpoint": """
dprintf add,"a=%d\\n", a
break sub
run
printf "stopped in sub with a=%d, %s\\n", a, greeting
continue
""",
    "define-document-if-while": """
define adder
  if $argc == 2
    printf "sum %d\\n", $arg0 + $arg1
  else
    echo need two\\n
  end
end
document adder
Add two numbers.
Usage: adder A B
end
adder 1 2
adder 1
adder 10 (5*2)
help adder
set $i = 0
while $i < 5
  set $i = $i + 1
  if $i == 2
    loop_continue
  end
  if $i == 4
    loop_break
  end
  printf "i=%d\\n", $i
end
define countdown
  set $n = $arg0
  while $n > 0
    output $n
    echo " "
    set $n = $n - 1
  end
  echo \\n
end
countdown 4
show user adder
define adder
  echo redefined $argc\\n
end
adder x y z
""",
    "printf-formats": """
printf "%d|%i|%u|%x|%o|%X\\n", -1, 2.7, -1, -1, 8, 255
printf "%ld|%lu|%lx|%lld|%llu|%llx\\n", -1, -1, -1, -1, -1, -1
printf "%5d|%-5d|%05d|%+d|% d|%.3d\\n", 42, 42, 42, 42, 42, 42
printf "%c%c|%5c|%p|%p|%20p|%-6p|\\n", 72, 105, 'x', 0, 4096, 255, 16
printf "%g|%e|%f|%g|%f\\n", 3.5, 1e10, -2.25, 3, 10L
printf "%#x|%#o|%hd|%zu|100%%\\n", 255, 8, 70000, -1
printf "%e|%E|%G|%g|%-+8.3f|%08.3f\\n", 0.000012345, 12345678.9, 1e-10, 100000.0, 3.14, -3.14
printf "\\t\\\\\\"\\a|\\n"
output 1+2
echo \\n
output/x 255
echo \\n
""",
    "printf-with-program": """
break add
run
printf "%s|%10s|%-10s|%.5s|\\n", greeting, greeting, "abc", greeting
printf "%d %d %s\\n", a, b, "lit"
printf "%s\\n", 0
printf "%c%c%c\\n", greeting[0], greeting[1], greeting[2]
printf "%lu %d\\n", sizeof(table), table[3]
""",
    "python": """
python print("py", 1 + 2)
python
x = 5
def twice(v):
    return 2 * v
print(twice(x))
end
python print(x, twice(21))
echo after\\n
pi 6 * 7
""",
}


def _gdb_x(exe, script_path, args=()):
    argv = ["gdb", "-nx", "-batch"]
    for cmd in _GDB_PREAMBLE:
        argv += ["-ex", cmd]
    argv += ["-x", str(script_path), "--args", str(exe), *args]
    return subprocess.run(argv, capture_output=True, text=True, env=CLEAN_ENV, cwd=FIXTURES,
                          timeout=60, stdin=subprocess.DEVNULL)


def _pydbg_x(exe, script_path, args=(), extra=()):
    boot = (f"import sys; sys.path.insert(0, {str(REPO)!r}); "
            "from pydbg.cli.main import main; sys.exit(main())")
    argv = [sys.executable, "-c", boot, "-nx", "-batch", "-ex", "set confirm off", *extra,
            "-x", str(script_path), "--args", str(exe), *args]
    return subprocess.run(argv, capture_output=True, text=True, env=CLEAN_ENV, cwd=FIXTURES,
                          timeout=60, stdin=subprocess.DEVNULL)


def _compare(exe, script: str, tmp_path, args=()):
    path = tmp_path / "script.gdb"
    path.write_text(script.lstrip("\n"))
    expected = _gdb_x(exe, path, args)
    got = _pydbg_x(exe, path, args)
    assert normalize(got.stdout) == normalize(expected.stdout)
    assert got.stderr.strip() == expected.stderr.strip()
    assert got.returncode == expected.returncode
    return got


# -O2 inlines add into main: gdb's `info breakpoints` then lists inline locations, which
# is the breakpoint table's business, so the -O2 runs use the scripts without it.
CASES = [(name, "O0") for name in SCRIPTS if name != "printf-formats"] + \
    [(name, variant) for variant in ("O2", "O0-nopie")
     for name in ("commands-without-silent-then-continue", "define-document-if-while")] + \
    [("dprintf-and-breakpoint", "O0-nopie")]


@pytest.mark.parametrize("name, variant", CASES)
def test_script_matches_gdb(name, variant, tmp_path):
    _compare(build("basic.c", VARIANTS[variant]), SCRIPTS[name], tmp_path)


def test_printf_formats_match_gdb(tmp_path):
    _compare(build("basic.c", VARIANTS["O0"]), SCRIPTS["printf-formats"], tmp_path)


@pytest.mark.parametrize("line", [
    'printf "%d\\n"', 'printf "%d\\n", 1, 2', 'printf "%q\\n", 1', 'printf "%n\\n", 1',
    'printf "abc', 'printf abc', 'printf', 'printf "%s" "x"', 'printf "%lf", 1.5',
    'printf "\\x41"', 'printf "%d\\n", nosuch', 'dprintf', 'dprintf add', 'dprintf add,',
    'dprintf add "x"', 'dprintf add,x', 'dprintf add,"%q"', 'end', 'else',
    'if', 'while', 'define', 'document nosuch', 'document print', 'loop_break', 'silent',
    'source /nonexistent/file.gdb', 'show user nosuch',
])
def test_errors_match_gdb(line, tmp_path):
    exe = build("basic.c", VARIANTS["O0"])
    from tests.support.oracle import run_gdb, run_pydbg
    expected = run_gdb(exe, [line, "echo next\\n"])
    got = run_pydbg(exe, ["set confirm off", line, "echo next\\n"])
    assert got.stderr.strip() == expected.stderr.strip()
    assert normalize(got.stdout) == normalize(expected.stdout)


def test_commands_for_a_missing_breakpoint_still_reads_its_body(tmp_path):
    script = "break add\ncommands 7 1\n  echo in add\\n\nend\nrun\necho next\\n\n"
    _compare(build("basic.c", VARIANTS["O0"]), script, tmp_path)


def test_error_in_sourced_file_names_file_and_line(tmp_path):
    inner = tmp_path / "inner.gdb"
    inner.write_text("echo inner\\n\nprint nosuch\necho not reached\\n\n")
    script = f"echo outer\\n\nsource {inner}\necho not reached either\\n\n"
    _compare(build("basic.c", VARIANTS["O0"]), script, tmp_path)


def test_python_errors_match_gdb(tmp_path):
    exe = build("basic.c", VARIANTS["O0"])
    script = "python print(1/0)\necho unreached\\n\n"
    path = tmp_path / "py.gdb"
    path.write_text(script)
    expected = _gdb_x(exe, path)
    got = _pydbg_x(exe, path)
    assert got.stderr == expected.stderr
    assert got.stdout == expected.stdout


def test_python_api_is_bound_in_python_command(tmp_path):
    exe = build("basic.c", VARIANTS["O0"])
    script = """
break add
run
python print(pydbg.selected().registers.rip == dbg.frame.pc, dbg.frame.args)
python
total = 0
for stop in dbg.run():
    total += stop.frame["a"]
print("sum of a:", total, "exit", dbg.exit_code)
end
"""
    path = tmp_path / "api.gdb"
    path.write_text(script.lstrip())
    got = _pydbg_x(exe, path)
    lines = got.stdout.splitlines()
    assert "True {'a': 0, 'b': 0}" in lines
    assert "sum of a: 3 exit 0" in lines      # a = 0, 1, 2 in the three later calls


def _pydbg_ex(exe, commands):
    from tests.support.oracle import run_pydbg
    return run_pydbg(exe, ["set confirm off", *commands])


def test_blocks_in_ex_sequences_take_the_following_ex(tmp_path):
    # gdb 13 reads a block opened by -ex from stdin; pydbg reads the next -ex arguments,
    # so the same script works in a -x file and as -ex arguments.
    exe = build("basic.c", VARIANTS["O0"])
    commands = [line for line in SCRIPTS["commands-silent-printf-continue"].splitlines()
                if line.strip()]
    got = _pydbg_ex(exe, commands)
    path = tmp_path / "ex-vs-x.gdb"
    path.write_text(SCRIPTS["commands-silent-printf-continue"].lstrip())
    from_file = _pydbg_x(exe, path)
    assert normalize(got.stdout) == normalize(from_file.stdout)
    assert "pos 1, counter=2" in got.stdout


def test_dprintf_keeps_running_through_many_hits():
    # Thousands of hits must not nest (each continue comes back to one loop).
    exe = build("trace_calls.c", VARIANTS["O0"])
    got = _pydbg_ex(exe, ['dprintf fold,"%d,", n', "run"])
    assert got.stdout.startswith("Dprintf 1 at ")
    assert "3,2,1,0,hello 6 13" in got.stdout.replace("\n", "")


def test_hook_stop_runs_at_every_stop():
    exe = build("basic.c", VARIANTS["O0"])
    got = _pydbg_ex(exe, ["define hook-stop", "printf \"[hook %d]\\n\", a", "end",
                          "break add", "run", "continue"])
    assert got.stdout.count("[hook ") == 2
