"""Source files: list, directory, substitute-path, info source, listsize."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pydbg.cli.commands.registry import command, prefix_command
from pydbg.engine.source import ErrorText, SourceRef, find_source
from pydbg.errors import CommandError, SymbolError

if TYPE_CHECKING:
    from pydbg.cli.session import Session


prefix_command("unset", group="support",
               doc="Complement to certain \"set\" commands.")


def _print(session: "Session", lines: list[str]) -> None:
    for line in lines:
        if isinstance(line, ErrorText):
            session.err(line)
        else:
            session.out(line)


def _images(session: "Session"):
    target = session.target
    if target.is_running and target.images:
        return [img.image for img in target.images]
    if target.exe_image is None:
        raise CommandError("No symbol table is loaded.  Use the \"file\" command.")
    return [target.exe_image]


def _default_ref(session: "Session") -> SourceRef:
    """gdb's set_default_source_symtab_and_line: around main if nothing was listed yet."""
    sources = session.target.sources
    if sources.current is not None:
        return sources.current
    image = session.target.exe_image
    if image is None or not image.has_debug_info:
        raise CommandError("No symbol table is loaded.  Use the \"file\" command.")
    locs = image.breakpoint_locations("main") if image.get_symbol("main") or \
        image.functions_named("main") else []
    for m in locs:
        if m.file and m.line:
            ref = SourceRef(m.name or m.file, m.file)
            sources.set_current(ref, max(m.line - (sources.lines_to_list() - 1), 1))
            return ref
    files = image.source_files()
    if not files:
        raise CommandError("No symbol table is loaded.  Use the \"file\" command.")
    ref = SourceRef(os.path.basename(files[0]), files[0])
    sources.set_current(ref, 1)
    return ref


def _function_sals(session: "Session", name: str) -> list[tuple[SourceRef, int]]:
    """Each place FUNC starts, out-of-line and inlined copies (gdb's list mode: the line
    of the entry pc, no prologue skipping), sorted, without duplicate lines."""
    found: dict[tuple[str, int], SourceRef] = {}
    for image in _images(session):
        library = None if image is session.target.exe_image else str(image.path)
        try:
            blocks = [b for _cu, b in image._function_blocks(name)]  # noqa: SLF001
        except (SymbolError, AttributeError):
            blocks = []
        entries = [b.entry_pc for b in blocks] or [f.entry for f in image.functions_named(name)]
        for pc in entries:
            entry = image.line_for_address(pc)
            if entry is not None:
                found.setdefault((entry.file, entry.line),
                                 SourceRef(entry.name, entry.file, library))
        if found:
            break
    if not found:
        raise CommandError(f"Function \"{name}\" not defined.")
    return [(ref, line) for (_f, line), ref in sorted(found.items())]


def _sals(session: "Session", spec: str) -> list[tuple[SourceRef, int]]:
    """Every (file, line) a `list` argument means: N, FILE:N, FUNC, FILE:FUNC, *ADDRESS."""
    spec = spec.strip()
    if spec.startswith("*"):
        return [_address_line(session, session.evaluate_address(spec[1:]))]
    if spec.isdigit():
        return [(_default_ref(session), int(spec))]
    if ":" in spec:
        file, _, rest = spec.rpartition(":")
        ref = find_source(_images(session), file.strip())
        if ref is None:
            raise SymbolError(f"No source file named {file.strip()}.")
        rest = rest.strip()
        if rest.isdigit():
            return [(ref, int(rest))]
        sals = [s for s in _function_sals(session, rest) if s[0].fullname == ref.fullname]
        if not sals:
            raise CommandError(f"Function \"{rest}\" not defined in \"{file.strip()}\".")
        return sals
    return _function_sals(session, spec)


def _sal_header(ref: SourceRef, line: int, symbol: str) -> str:
    return f"file: \"{ref.name}\", line number: {line}, symbol: \"{symbol}\""


def _ambiguous(session: "Session", sals, which: str, text: str) -> bool:
    """gdb lists nothing for an ambiguous range end; it names the candidates instead."""
    if len(sals) <= 1:
        return False
    session.out(f"Specified {which} line '{text}' is ambiguous:")
    symbol = text.rpartition(":")[2].strip()
    for ref, line in sals:
        session.out(_sal_header(ref, line, symbol))
    return True


def _address_line(session: "Session", address: int) -> tuple[SourceRef, int]:
    target = session.target
    img = target.image_for_address(address) if target.is_running else None
    image = img.image if img else target.exe_image
    bias = img.bias if img else 0
    entry = image.line_for_address(address - bias) if image and image.has_debug_info else None
    if entry is None:
        raise CommandError(f"No line number information available for address {address:#x}")
    func = image.function_at(address - bias)
    where = f" in {func.name}" if func else ""
    session.out(f"{address:#x} is{where} ({entry.name}:{entry.line}).")
    library = img.path if img is not None and not img.is_main else None
    return SourceRef(entry.name, entry.file, library), entry.line


@command("list", group="files", aliases=("l",), repeat=True)
def cmd_list(session: "Session", arg: str) -> None:
    """List specified function or line.
    Usage: list [LINENUM | FILE:LINENUM | FUNCTION | FILE:FUNCTION | *ADDRESS]
           list FIRST,LAST | FIRST, | ,LAST
           list -
    With no argument, lists ten more lines after or around previous listing.
    "list -" lists the ten lines before a previous ten-line listing.
    One argument specifies a line, and ten lines are listed around that line.
    Two arguments with comma between specify starting and ending lines to list.
    Source files are found through their compilation directory, `directory` and
    `set substitute-path`."""
    sources = session.target.sources
    arg = arg.strip()
    if arg in ("", "+"):
        _default_ref(session)
        _print(session, sources.list_forward())
        return
    if arg == "-":
        _default_ref(session)
        _print(session, sources.list_backward())
        return
    if "," in arg:
        first_text, _, last_text = arg.partition(",")
        first_text, last_text = first_text.strip(), last_text.strip()
        if not first_text:
            sals = _sals(session, last_text)
            if _ambiguous(session, sals, "last", last_text):
                return
            ref, last = sals[0]
            _print(session, sources.list_ending_at(ref, last))
        else:
            sals = _sals(session, first_text)
            if _ambiguous(session, sals, "first", first_text):
                return
            ref, first = sals[0]
            if not last_text:
                _print(session, sources.print_lines(ref, first, first + sources.lines_to_list()))
            else:
                if last_text.isdigit():
                    last = int(last_text)
                else:
                    end_sals = _sals(session, last_text)
                    if _ambiguous(session, end_sals, "last", last_text):
                        return
                    last = end_sals[0][1]
                _print(session, sources.list_range(ref, first, last))
        session.last_command = "list"
        return
    sals = _sals(session, arg)
    for ref, line in sals:
        if len(sals) > 1:
            session.out(_sal_header(ref, line, arg.rpartition(":")[2].strip()))
        _print(session, sources.list_around(ref, line))
    session.last_command = "list"   # Enter continues the listing, as in gdb


@command("directory", group="files", aliases=("dir",))
def cmd_directory(session: "Session", arg: str) -> None:
    """Add directory DIR to beginning of search path for source files.
    Usage: directory [DIR...]
    Forget cached info on source file locations and line positions.
    With no argument, reset the search path to $cdir:$cwd, the default."""
    sources = session.target.sources
    if not arg.strip():
        if session.ask("Reinitialize source path to empty? (y or n) "):
            sources.reset_directories()
    else:
        dirs = [d for part in arg.split() for d in part.split(":") if d]
        sources.add_directories(dirs)
    if session.from_tty:
        session.out(sources.directories_text())


@command("directories", group="files", prefix="show")
def cmd_show_directories(session: "Session", arg: str) -> None:
    """Show the search path for finding source files."""
    session.out(session.target.sources.directories_text())


@command("substitute-path", group="files", prefix="set")
def cmd_set_substitute_path(session: "Session", arg: str) -> None:
    """Add a substitution rule to rewrite the source directories.
    Usage: set substitute-path FROM TO
    A source file whose path starts with FROM is looked up under TO instead."""
    words = arg.split()
    if len(words) != 2:
        raise CommandError("Incorrect usage, too few arguments in command"
                           if len(words) < 2 else
                           "Incorrect usage, too many arguments in command")
    session.target.sources.set_substitution(words[0], words[1])


@command("substitute-path", group="files", prefix="unset")
def cmd_unset_substitute_path(session: "Session", arg: str) -> None:
    """Delete one or all substitution rules rewriting the source directories.
    Usage: unset substitute-path [FROM]"""
    words = arg.split()
    if len(words) > 1:
        raise CommandError("Incorrect usage, too many arguments in command")
    sources = session.target.sources
    if not words:
        if not session.ask("Delete all source path substitution rules? (y or n) "):
            return
        sources.unset_substitution(None)
        return
    if not sources.unset_substitution(words[0]):
        raise CommandError(f"No substitution rule defined for `{words[0]}'")


@command("substitute-path", group="files", prefix="show")
def cmd_show_substitute_path(session: "Session", arg: str) -> None:
    """Show the substitution rules used to rewrite the source directories."""
    rules = session.target.sources.substitutions
    word = arg.strip()
    if word:
        rules = [(o, n) for o, n in rules if word == o or word.startswith(o.rstrip("/") + "/")]
        session.out(f"Source path substitution rule matching `{word}':")
    else:
        session.out("List of all source path substitution rules:")
    for old, new in rules:
        session.out(f"  `{old}' -> `{new}'.")


@command("listsize", group="files", prefix="set")
def cmd_set_listsize(session: "Session", arg: str) -> None:
    """Set number of source lines gdb will list by default.
    Usage: set listsize N ("unlimited" or 0 lists everything)"""
    text = arg.strip()
    if not text:
        raise CommandError("Argument required (integer to set it to, or \"unlimited\".).")
    if text == "unlimited":
        value = 0
    else:
        try:
            value = int(text, 0)
        except ValueError:
            raise CommandError(f"No symbol \"{text}\" in current context.") from None
    session.target.settings.listsize = value if value > 0 else 1 << 30


@command("listsize", group="files", prefix="show")
def cmd_show_listsize(session: "Session", arg: str) -> None:
    """Show number of source lines gdb will list by default."""
    size = session.target.settings.listsize
    shown = "unlimited" if size >= 1 << 30 else str(size)
    session.out(f"Number of source lines gdb will list by default is {shown}.")


@command("source", group="files", prefix="info")
def cmd_info_source(session: "Session", arg: str) -> None:
    """Information about the current source file."""
    ref = session.target.sources.current
    if ref is None:
        session.out("No current source file.")
        return
    session.out(f"Current source file is {ref.name}")
    if ref.comp_dir:
        session.out(f"Compilation directory is {ref.comp_dir}")
    path = session.target.sources.resolve(ref)
    if path is not None:
        session.out(f"Located in {os.path.abspath(path)}")
        lines = session.target.sources.lines(ref)
        if lines is not None:
            session.out(f"Contains {len(lines)} lines.")
    session.out("Source language is c.")
    cu = _cu_of_file(session, ref)
    if cu is not None:
        top = cu.cu.get_top_DIE()
        producer = top.attributes.get("DW_AT_producer")
        if producer is not None:
            value = producer.value
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            session.out(f"Producer is {text}.")
        session.out(f"Compiled with DWARF {cu.cu.header.version} debugging format.")
    session.out("Does not include preprocessor macro info.")


def _cu_of_file(session: "Session", ref: SourceRef):
    """The compilation unit whose primary file is REF (for `info source`)."""
    try:
        images = _images(session)
    except CommandError:
        return None
    for image in images:
        try:
            cus = image._all_cus()  # noqa: SLF001
        except (SymbolError, AttributeError):
            continue
        for cu in cus:
            if cu.name and cu.namer is not None and cu.namer.fullname(cu.name) == ref.fullname:
                return cu
    return None
