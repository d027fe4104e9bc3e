"""Multi-line blocks typed at the interactive prompt: gdb's `>` continuation prompt and its
"Type commands for..." introductions, in a real pseudo-terminal."""

from __future__ import annotations

import subprocess
import sys

from tests.cli.test_repl import PROMPT, _reap_children, finish, spawn  # noqa: F401
from tests.support.build import VARIANTS, build
from tests.support.oracle import CLEAN_ENV, REPO


def test_define_commands_if_and_python_at_the_prompt(tmp_path):
    exe = build("basic.c", VARIANTS["O0"])
    child = spawn(tmp_path, str(exe))
    child.sendline("define greet")
    child.expect('Type commands for definition of "greet".')
    child.expect('End with a line saying just "end".')
    child.expect(">")
    child.sendline("echo hi $arg0\\n")
    child.expect(">")
    child.sendline("end")
    child.expect(PROMPT)
    child.sendline("greet you")
    child.expect("hi you")
    child.expect(PROMPT)
    child.sendline("break add")
    child.expect(PROMPT)
    child.sendline("commands")
    child.expect(r"Type commands for breakpoint\(s\) 1, one per line.")
    child.expect(">")
    child.sendline("silent")
    child.expect(">")
    child.sendline('printf "a=%d b=%d\\n", a, b')
    child.expect(">")
    child.sendline("end")
    child.expect(PROMPT)
    child.sendline("run")
    child.expect("a=0 b=0")
    child.expect(PROMPT)
    child.sendline("python")
    child.expect(">")
    child.sendline("for name, value in dbg.frame.args.items():")
    child.expect(">")
    child.sendline("    print(name, value)")
    child.expect(">")
    child.sendline("end")
    child.expect("a 0")
    child.expect("b 0")
    child.expect(PROMPT)
    child.sendline("if a == 0")
    child.expect(">")
    child.sendline("echo zero\\n")
    child.expect(">")
    child.sendline("else")
    child.expect(">")
    child.sendline("echo other\\n")
    child.expect(">")
    child.sendline("end")
    child.expect("zero")
    child.expect(PROMPT)
    child.sendline("kill")
    child.expect(r"\(y or n\)")
    child.sendline("y")
    child.expect(PROMPT)
    finish(child)


def test_blocks_from_a_pipe_need_no_prompt():
    exe = build("basic.c", VARIANTS["O0"])
    script = ("define twice\nprint $arg0 * 2\nend\ntwice 21\nwhile $_ < 3\n"
              "set $_ = 3\nend\npython\nprint('py', 1)\nend\nquit\n")
    boot = (f"import sys; sys.path.insert(0, {str(REPO)!r}); "
            "from pydbg.cli.main import main; sys.exit(main())")
    got = subprocess.run([sys.executable, "-c", boot, "-q", "-nx", str(exe)], input=script,
                         capture_output=True, text=True, env=CLEAN_ENV, timeout=60)
    assert got.stdout.splitlines()[1:] == ["$1 = 42", "py 1"]      # after "Reading symbols"
    assert got.returncode == 0


def test_ctrl_d_ends_a_block(tmp_path):
    child = spawn(tmp_path)
    child.sendline("define empty")
    child.expect(">")
    child.sendcontrol("d")
    child.expect(PROMPT)
    child.sendline("show user empty")
    child.expect('User command "empty":')
    child.expect(PROMPT)
    finish(child)
