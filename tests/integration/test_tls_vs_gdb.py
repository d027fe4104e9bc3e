"""Thread-local variables against gdb: errno (libc's), the program's own `__thread` variables
in each of its threads, a dlopened library's, a static program's, and the errors before a
thread has its storage or with no process at all. gdb (with libthread_db) is the oracle."""

from __future__ import annotations

import re

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg
from tests.support.session import Recorder

NO_PROCESS = [
    "p tls_counter", "p &tls_counter", "ptype tls_counter", "whatis tls_info",
    "p sizeof(tls_info)", "ptype &tls_info", "whatis tls_info.name", "p tls_counter + 1",
    "p 'tls.c'::tls_counter", "ptype 'tls.c'::tls_counter", "info address tls_counter",
]

# Workers run one at a time, so the stops come in a fixed order: main (id -1), workers 0-3,
# main again (id -2).
IN_THREADS = [
    "break tls_checkpoint", "run",
    "p tls_counter", "p &tls_counter", "p tls_info", "p &tls_info", "p tls_array", "p calls",
    "p errno", "p &errno", "ptype errno", "whatis &errno", "p sizeof(errno)",
    "info address tls_counter", "info address calls", "info address errno",
    "continue",
    "p tls_counter", "p &tls_counter", "p tls_info", "p tls_info.name", "p tls_array",
    "p calls", "p errno", "p &errno", "p tls_counter = 55", "p tls_counter",
    "p errno = 5", "p errno", "p tls_counter * 2 + errno", "p *&tls_counter", "up",
    "p tls_counter", "p errno",
    "continue", "continue", "continue",
    "p tls_counter", "p tls_info", "p tls_array", "p calls", "p errno",
    "continue",
    "p tls_counter", "p tls_info", "p tls_array", "p calls", "p errno",
]

# Stop banners and thread notices are the stop reporter's business, not this file's.
_BANNER = re.compile(r"^(\[|Thread \d+ |Breakpoint \d+, |Temporary breakpoint|#\d+ |\d+\t|$)")


def values(text: str) -> list[str]:
    return [line for line in normalize(text).splitlines() if not _BANNER.match(line)]


def compare(exe, commands, args=()):
    g = run_gdb(exe, commands, args=list(args))
    p = run_pydbg(exe, commands, args=list(args))
    assert "Traceback" not in p.stderr, p.stderr
    assert values(p.stdout) == values(g.stdout)
    assert normalize(p.stderr) == normalize(g.stderr)
    return values(p.stdout), normalize(p.stderr)


def tls_program(variant: str):
    return build("tls.c", VARIANTS[variant] + ["-pthread"])


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_thread_local_variables_in_each_thread(variant):
    out, err = compare(tls_program(variant), IN_THREADS)
    assert not err
    text = "\n".join(out)
    # Each thread sees its own copy: main's initial value, worker 0's, worker 3's, main's sum.
    assert re.findall(r"^\$\d+ = \{id = (-?\d+), name = \"(\w+)", text, re.M) == [
        ("-1", "main"), ("0", "w0"), ("3", "w3"), ("-1", "main")]
    for want in ("$1 = 7", "$10 = 100", "$18 = 55", "$21 = 5", "$22 = 115", "$26 = 103",
                 "$28 = {3001, 0, 0}", "$30 = 13", "$31 = 13", "$35 = 0"):
        assert want in out
    assert "thread-local variable at offset" in text


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_thread_local_variables_without_a_process(variant):
    out, err = compare(tls_program(variant), NO_PROCESS)
    assert "Cannot read `tls_counter' without registers" in err.splitlines()
    assert "type = int" in out


def test_static_program():
    exe = build("tls.c", ["-O0", "-static", "-pthread"], name="tls_static")
    compare(exe, ["break tls_checkpoint", "run", "p tls_counter", "p &tls_counter",
                  "p tls_info", "p calls", "continue", "p tls_counter", "p &tls_counter",
                  "p tls_info", "p calls"])


def test_before_the_dynamic_linker_set_up_thread_local_storage():
    commands = ["set breakpoint pending on", "break _dl_start", "run", "p tls_counter",
                "p &tls_counter", "ptype tls_counter"]
    out, err = compare(tls_program("O0"), commands)
    assert err.splitlines()[-2:] == [
        "Cannot find thread-local storage for process PID, executable file "
        f"{tls_program('O0')}:", "Cannot find thread-local variables on this target"]


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_dlopened_library_storage_allocated_on_first_use(variant):
    exe = build("sharedlib_main.c", VARIANTS[variant])
    flags = ["-O0" if variant == "O0" else "-O2", "-shared", "-fPIC"]
    lib = build("tls_plugin.c", flags, name="libtlsplugin.so")
    commands = ["set breakpoint pending on", "break plugin_add", "run", "p plugin_tls",
                "p &plugin_tls", "ptype plugin_tls", "whatis &plugin_tls",
                "p sizeof(plugin_tls)", "info address plugin_tls", "finish", "p plugin_tls",
                "p &plugin_tls", "p plugin_tls = 9", "p plugin_tls", "p plugin_tls + errno"]
    g = run_gdb(exe, commands, args=[str(lib)])
    p = run_pydbg(exe, commands, args=[str(lib)])
    assert "Traceback" not in p.stderr, p.stderr
    assert normalize(p.stdout, frame_args=False) == normalize(g.stdout, frame_args=False)
    assert normalize(p.stderr) == normalize(g.stderr)
    # glibc gives a dlopened library's block to a thread on its first access.
    assert "The inferior has not yet allocated storage for thread-local variables in\n" \
           f"the shared library `{lib}'\nfor Thread 0x" in p.stderr
    assert "$3 = 41" in p.stdout and "$6 = 9" in p.stdout


def test_errors_are_one_message_and_the_session_goes_on():
    rec = Recorder(tls_program("O0"))
    try:
        assert rec.error("p tls_counter") == "Cannot read `tls_counter' without registers"
        assert rec.error("p &tls_info") == "Cannot read `tls_info' without registers"
        assert rec.run("ptype tls_counter") == "type = int\n"
        rec.run("break tls_checkpoint")
        rec.run("run")
        assert rec.run("p tls_counter") == "$1 = 7\n"
        assert rec.run("p errno = 3") == "$2 = 3\n"
        assert rec.run("p errno") == "$3 = 3\n"
        rec.run("kill")
        assert rec.error("p tls_counter") == "Cannot read `tls_counter' without registers"
        assert rec.run("whatis tls_counter") == "type = int\n"
    finally:
        rec.close()
