"""Source files for listings and stop lines: lookup through DW_AT_comp_dir, `directory` and
`set substitute-path`, a line cache, and gdb's `list` position (current file and line).

The front end prints what these methods return; ErrorText lines belong on stderr.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from pydbg.errors import CommandError


class ErrorText(str):
    """An output line gdb prints on stderr (e.g. a missing source file)."""


@dataclass(frozen=True)
class SourceRef:
    """A source file as the line table names it: display name and absolute path."""
    name: str
    fullname: str
    library: str | None = None     # the shared library it belongs to (None: the program)

    @property
    def comp_dir(self) -> str | None:
        """The compilation directory, recovered from how fullname was built from name."""
        if os.path.isabs(self.name):
            return None
        tail = os.path.normpath(self.name)
        if self.fullname.endswith("/" + tail):
            return self.fullname[:-len(tail) - 1] or "/"
        return os.path.dirname(self.fullname)


DEFAULT_DIRECTORIES = ("$cdir", "$cwd")


class SourceManager:
    """Finds and caches source text; remembers what `list` shows next."""

    def __init__(self, lines_to_list: Callable[[], int] = lambda: 10) -> None:
        self.lines_to_list = lines_to_list
        self.directories: list[str] = list(DEFAULT_DIRECTORIES)
        self.substitutions: list[tuple[str, str]] = []
        self._text: dict[str, list[str] | None] = {}
        self._resolved: dict[tuple[str, str], str | None] = {}
        self._last_visited: str | None = None
        self._last_library: str | None = None
        self._last_error = False
        # gdb's "current source symtab and line" and the range `list` printed last.
        self.current: SourceRef | None = None
        self.current_line = 0
        self.first_listed = 0
        self.last_listed = 0
        # gdb's last_line_listed: the first line of the last listing, or the line after
        # the last `info line` (what a bare `info line` describes).
        self.last_line_listed = 0

    # ----- configuration -----

    def forget(self) -> None:
        """Drop cached lookups and text (a new process, `directory`, substitute-path).

        A library's files belong to its symbols, which a new process reloads: gdb then
        reports their missing source again. The program's own stay "visited".
        """
        self._text.clear()
        self._resolved.clear()
        if self._last_library is not None:
            self._reset_visits()

    def _reset_visits(self) -> None:
        self._last_visited = None
        self._last_library = None
        self._last_error = False

    def add_directories(self, dirs: list[str]) -> None:
        """gdb's `directory DIR...`: each goes to the front (keeping the given order)."""
        for d in reversed(dirs):
            if d not in ("$cdir", "$cwd"):
                d = os.path.abspath(os.path.expanduser(d))
            if d in self.directories:
                self.directories.remove(d)
            self.directories.insert(0, d)
        self.forget()
        self._reset_visits()

    def reset_directories(self) -> None:
        self.directories = list(DEFAULT_DIRECTORIES)
        self.forget()
        self._reset_visits()

    def directories_text(self) -> str:
        return "Source directories searched: " + ":".join(self.directories)

    def set_substitution(self, old: str, new: str) -> None:
        self.substitutions = [(o, n) for o, n in self.substitutions if o != old]
        self.substitutions.append((old, new))
        self.forget()
        self._reset_visits()

    def unset_substitution(self, old: str | None) -> bool:
        before = len(self.substitutions)
        if old is None:
            self.substitutions = []
        else:
            self.substitutions = [(o, n) for o, n in self.substitutions if o != old]
        self.forget()
        self._reset_visits()
        return len(self.substitutions) != before

    def rewrite(self, path: str) -> str | None:
        """PATH after the first matching substitute-path rule, or None."""
        for old, new in self.substitutions:
            if path == old or path.startswith(old.rstrip("/") + "/"):
                return new + path[len(old):]
        return None

    # ----- finding files -----

    def resolve(self, ref: SourceRef) -> str | None:
        """The path the source of REF is read from, or None when it cannot be found."""
        key = (ref.name, ref.fullname)
        if key in self._resolved:
            return self._resolved[key]
        found = None
        for cand in self._candidates(ref):
            if os.path.isfile(cand):
                found = cand
                break
        self._resolved[key] = found
        return found

    def _candidates(self, ref: SourceRef) -> list[str]:
        out: list[str] = []
        rewritten = self.rewrite(ref.fullname)
        if rewritten:
            out.append(rewritten)
        cdir = ref.comp_dir
        if cdir is not None:
            cdir = self.rewrite(cdir) or cdir
        dirs = []
        for d in self.directories:
            if d == "$cdir":
                d = cdir
            elif d == "$cwd":
                d = os.getcwd()
            if d:
                dirs.append(d)
        if os.path.isabs(ref.name):
            out.append(self.rewrite(ref.name) or ref.name)
        else:
            out.extend(os.path.join(d, ref.name) for d in dirs)
        base = os.path.basename(ref.name)
        if base != ref.name:
            out.extend(os.path.join(d, base) for d in dirs)
        return out

    def lines(self, ref: SourceRef) -> list[str] | None:
        """The lines of REF's file (cached), or None when it cannot be read."""
        path = self.resolve(ref)
        if path is None:
            return None
        if path not in self._text:
            try:
                with open(path, "rb") as f:
                    data = f.read().decode("utf-8", "replace")
                text = data.split("\n")
                if text and text[-1] == "":
                    text.pop()
                self._text[path] = [t[:-1] if t.endswith("\r") else t for t in text]
            except OSError:
                self._text[path] = None
        return self._text[path]

    # ----- printing -----

    def _missing(self, ref: SourceRef, line: int) -> str:
        """gdb reports an unreadable file once, then says `N\\tin FILE`."""
        if self._last_visited == ref.fullname and self._last_error:
            return f"{line}\tin {ref.name}"
        self._last_visited = ref.fullname
        self._last_library = ref.library
        self._last_error = True
        return ErrorText(f"{line}\t{ref.name}: No such file or directory.")

    def print_lines(self, ref: SourceRef, first: int, stop: int) -> list[str]:
        """gdb's print_source_lines: lines [FIRST, STOP) and the new `list` position."""
        self.current = ref
        self.current_line = first
        self.first_listed = first
        self.last_listed = first
        self.last_line_listed = first
        text = self.lines(ref)
        if text is None:
            return [self._missing(ref, first)]
        self._last_visited = ref.fullname
        self._last_library = ref.library
        self._last_error = False
        if first < 1 or first > len(text):
            raise CommandError(f"Line number {first} out of range; {ref.name} has "
                               f"{len(text)} lines.")
        out = []
        last = min(stop, len(text) + 1)
        for n in range(first, last):
            out.append(f"{n}\t{text[n - 1]}")
        self.last_listed = last - 1
        self.current_line = last
        return out

    def stop_line(self, ref: SourceRef, line: int) -> str:
        """The source line printed with a stop or a selected frame; `list` then centres
        on it (gdb's set_current_sal_from_frame)."""
        out = self.print_lines(ref, line, line + 1) if line >= 1 else []
        self.set_current(ref, line)
        return out[0] if out else ""

    def set_current(self, ref: SourceRef, line: int) -> None:
        self.current = ref
        self.current_line = line
        self.first_listed = 0
        self.last_listed = 0

    # ----- `list` -----

    def list_around(self, ref: SourceRef, line: int) -> list[str]:
        first = max(line - self.lines_to_list() // 2, 1)
        return self.print_lines(ref, first, first + self.lines_to_list())

    def list_forward(self) -> list[str]:
        """`list` with no argument: centred on a new position, else the next lines."""
        if self.current is None:
            raise CommandError("No default source file.")
        if self.first_listed == 0:
            return self.list_around(self.current, self.current_line)
        text = self.lines(self.current)
        if text is not None and self.current_line > len(text):
            line = self.current_line
            self.first_listed = self.last_listed = line
            raise CommandError(f"Line number {line} out of range; {self.current.name} has "
                               f"{len(text)} lines.")
        return self.print_lines(self.current, self.current_line,
                                self.current_line + self.lines_to_list())

    def list_backward(self) -> list[str]:
        """`list -`: the lines before the last ones printed."""
        if self.current is None:
            raise CommandError("No default source file.")
        if self.first_listed == 0:
            # Right after a stop or `frame`, gdb centres on the line as plain `list` does.
            return self.list_around(self.current, self.current_line)
        if self.first_listed == 1:
            raise CommandError(f"Already at the start of {self.current.name}.")
        end = self.first_listed
        start = max(end - self.lines_to_list(), 1)
        return self.print_lines(self.current, start, end)

    def list_range(self, ref: SourceRef, first: int, last: int) -> list[str]:
        return self.print_lines(ref, first, last + 1)

    def list_ending_at(self, ref: SourceRef, last: int) -> list[str]:
        start = max(last + 1 - self.lines_to_list(), 1)
        return self.print_lines(ref, start, last + 1)


# ----------------------------------------------------------------------------- lookups

def source_refs(image) -> list[SourceRef]:
    """Every file named by an image's line tables, with gdb's display names."""
    from pydbg.errors import PydbgError
    out: dict[tuple[str, str], SourceRef] = {}
    try:
        cus = image._all_cus()  # noqa: SLF001 - file names live on the CUs' line headers
    except (PydbgError, AttributeError):
        return []
    for cu in cus:
        namer = cu.namer
        if namer is None:
            continue
        pairs = list(namer.all_names())
        if cu.name:
            pairs.insert(0, (cu.name, namer.fullname(cu.name)))
        for name, full in pairs:
            out.setdefault((name, full), SourceRef(name, full))
    return list(out.values())


def find_source(images, spec: str) -> SourceRef | None:
    """The file a user means by SPEC ("t.c", "dir/t.c", "/abs/t.c"), gdb's name matching."""
    from pydbg.symbols.lines import matches_filename
    for image in images:
        for ref in source_refs(image):
            if matches_filename(ref.name, spec) or matches_filename(ref.fullname, spec):
                return ref
    return None
