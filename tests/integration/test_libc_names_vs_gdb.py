"""Names libc defines, compared with gdb: ELF aliases typed by the DWARF function at their
address (`puts` is glibc's _IO_puts, found as __GI__IO_puts), C functions looked up by
their linkage name, assembler aliases in frames; the value history and $_exitcode."""

from __future__ import annotations

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg


def same(exe, commands, args=()):
    """(gdb, pydbg) output, normalized, of COMMANDS: stdout and stderr."""
    g = run_gdb(exe, commands, args=list(args))
    p = run_pydbg(exe, commands, args=list(args))
    assert "Traceback" not in p.stderr, p.stderr
    return ((normalize(g.stdout), normalize(g.stderr)),
            (normalize(p.stdout), normalize(p.stderr)))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_elf_aliases_are_typed_by_the_function_at_their_address(variant):
    exe = build("basic.c", VARIANTS[variant])
    want, got = same(exe, [
        "break main", "run",
        "p puts", "p malloc", "ptype fflush", "whatis puts", "p &puts", "p *puts",
        "p _IO_puts", "p __GI__IO_puts", "p fflush", "p printf", "p atoi", "p qsort",
        "p strlen", "p memcpy", "p clone3", "ptype clone3",
        "p puts(\"hi\")", "call malloc(16)", "p (long)strlen(\"abc\")", "p add"])
    assert got == want
    assert "$1 = {int (const char *)} " in want[0] and "<__GI__IO_puts>" in want[0]
    assert "type = int (FILE *)" in want[0]
    assert "{void (void)} " in want[0] and "<clone3>" in want[0]


def test_elf_aliases_before_the_program_runs():
    exe = build("basic.c", VARIANTS["O0"])
    want, got = same(exe, ["p puts", "p add", "ptype puts", "p atoi"])
    assert got == want


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_info_address_of_libc_functions(variant):
    """gdb names a C function with a DW_AT_linkage_name by it: `atoi` is no debug
    symbol (its function is __GI_atoi), so gdb describes the ELF symbol."""
    exe = build("basic.c", VARIANTS[variant])
    want, got = same(exe, [
        "break main", "run", "info address atoi", "info address puts",
        "info address _IO_puts", "info address __GI__IO_puts", "info address __GI_atoi",
        "info address strtol", "info address add", "info address nosuch"])
    assert got == want
    assert 'Symbol "atoi" is at 0x' in want[0] and "compiled without debugging" in want[0]
    assert 'Symbol "__GI__IO_puts" is a function at address 0x' in want[0]


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_backtrace_names_assembler_aliases_as_gdb(variant):
    """glibc's clone3.S has three same-range subprograms (gas writes one per alias):
    gdb's block search finds the last, `clone3`."""
    exe = build("threads.c", VARIANTS[variant] + ["-pthread"])
    want, got = same(exe, ["break work", "run", "bt", "info symbol clone3"])

    def frames(text: str) -> list[str]:
        # Which worker (so its arguments) and the thread notices depend on scheduling.
        return [line for line in normalize(text, frame_args=False).splitlines()
                if line.startswith(("#", "clone3 "))]
    assert frames(got[0]) == frames(want[0])
    assert "in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:" in want[0]


def test_value_history_errors_as_gdb():
    exe = build("basic.c", VARIANTS["O0"])
    commands = ["p", "p $", "call", "p $$", "p $$2", "p $$0", "p $0", "p $1", "output $",
                "p/x $", "whatis $", "ptype $", "p sizeof($)", "p $ + 1", "set var $x = $",
                "call $$", "p $_", "p 5", "p", "p $$", "p $$1", "p $$2", "p $3", "p $0",
                "call", "p $$2"]
    want, got = same(exe, commands)
    assert got == want
    assert "The history is empty." in want[1]
    assert "History does not go back to $$2." in want[1]
    assert "History has not yet reached $1." in want[1]


@pytest.mark.parametrize("variant", ["O0", "O2-nopie"])
def test_exitcode_and_exitsignal(variant):
    basic = build("basic.c", VARIANTS[variant])
    commands = ["p $_exitcode", "p $_exitsignal", "break main", "run", "p $_exitcode",
                "continue", "p $_exitcode", "whatis $_exitcode", "p $_exitsignal", "run",
                "p $_exitcode", "continue", "p $_exitcode"]
    want, got = same(basic, commands, ["3"])
    assert got == want
    assert "$4 = 3" in want[0]
    crash = build("crash.c", VARIANTS[variant])
    commands = ["run", "p $_exitcode", "p $_exitsignal", "whatis $_exitsignal"]
    want, got = same(crash, commands, ["kill"])
    assert got == want
    assert "$2 = 9" in want[0]


def test_info_symbol_prefers_the_library_own_symbols_to_its_debug_file():
    """gdb searches a stripped library's .dynsym before its debug file's .symtab, whose
    symbol wins only when closer: `fclose`, not `fclose@@GLIBC_2.2.5`; local `clone3`."""
    exe = build("basic.c", VARIANTS["O0"])
    want, got = same(exe, [
        "break main", "run", "info symbol fclose", "info symbol modf", "info symbol tmpfile",
        "info symbol sigvec", "info symbol _IO_file_close_it", "info symbol (char *)clone3 + 5",
        "info symbol (char *)fclose + 7", "p (void (*)())fclose", "x/i sigvec"])
    assert got == want
    assert "fclose in section .text" in want[0] and "clone3 + 5 in section" in want[0]
