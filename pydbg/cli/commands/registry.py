"""The command registry: gdb-style names, aliases, unique prefixes and prefix commands.

Commands are declared with @command in one module per group; a command's docstring is its
help text (first line: the summary `help` lists).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from pydbg.errors import CommandError

if TYPE_CHECKING:
    from pydbg.cli.session import Session

Handler = Callable[["Session", str], None]


@dataclass
class Command:
    name: str
    handler: Handler | None
    group: str
    aliases: tuple[str, ...] = ()
    repeat: bool = False           # Enter on an empty line repeats it (gdb's "dont_repeat" off)
    subcommands: "CommandTable | None" = None
    allow_unknown_sub: bool = False  # prefix command that also accepts non-subcommand args

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.handler.__doc__ or "") if self.handler else ""

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""


class CommandTable:
    """A set of commands (the top level, or the subcommands of `info`, `set`, ...)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.commands: dict[str, Command] = {}
        self.aliases: dict[str, str] = {}

    def add(self, cmd: Command) -> Command:
        self.commands[cmd.name] = cmd
        for alias in cmd.aliases:
            self.aliases[alias] = cmd.name
        return cmd

    def lookup(self, word: str) -> Command:
        """Exact name, alias, or unique prefix; gdb's errors otherwise."""
        if word in self.commands:
            return self.commands[word]
        if word in self.aliases:
            return self.commands[self.aliases[word]]
        names = sorted({n for n in self.commands if n.startswith(word)} |
                       {self.aliases[a] for a in self.aliases if a.startswith(word)})
        if len(names) == 1:
            return self.commands[names[0]]
        where = f"{self.prefix} " if self.prefix else ""
        if not names:
            if self.prefix:
                raise CommandError(f"Undefined {self.prefix} command: \"{word}\".  "
                                   f"Try \"help {self.prefix}\".")
            raise CommandError(f"Undefined command: \"{word}\".  Try \"help\".")
        raise CommandError(f"Ambiguous {where}command \"{word}\": {', '.join(names)}.")

    def names(self) -> list[str]:
        return sorted(self.commands)


TOP = CommandTable()
_tables: dict[str, CommandTable] = {"": TOP}


def prefix_table(name: str) -> CommandTable:
    """The subcommand table of a prefix command such as 'info' or 'set'."""
    table = _tables.get(name)
    if table is None:
        table = _tables[name] = CommandTable(name)
    return table


def command(name: str, *, group: str = "misc", aliases: tuple[str, ...] = (),
            repeat: bool = False, prefix: str = "", allow_unknown_sub: bool = False
            ) -> Callable[[Handler], Handler]:
    """Register a command. prefix='info' makes it 'info NAME'."""
    def decorate(fn: Handler) -> Handler:
        table = prefix_table(prefix)
        full = f"{prefix} {name}".strip()
        sub = _tables.get(full)
        cmd = Command(name, fn, group, aliases, repeat, sub, allow_unknown_sub)
        table.add(cmd)
        return fn
    return decorate


def prefix_command(name: str, *, group: str, aliases: tuple[str, ...] = (), doc: str,
                   handler: Handler | None = None, allow_unknown_sub: bool = False,
                   parent: str = "") -> CommandTable:
    """Declare a prefix command ('info', 'set', 'show'...) and return its subcommand table."""
    full = f"{parent} {name}".strip()
    table = prefix_table(full)

    def default(session: "Session", arg: str) -> None:
        session.out(f"\"{full}\" must be followed by the name of a subcommand.")
        session.out(f"List of {full} subcommands:\n")
        for sub in table.names():
            session.out(f"{full} {sub} -- {table.commands[sub].summary}")

    fn = handler or default
    fn.__doc__ = doc
    prefix_table(parent).add(Command(name, fn, group, aliases, False, table, allow_unknown_sub))
    return table
