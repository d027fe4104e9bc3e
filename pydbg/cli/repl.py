"""The interactive shell: prompt-toolkit line editing, history and completion over a Session.

Enter on an empty line repeats the last repeatable command, as in gdb. Without a terminal
on stdin, commands are read line by line (gdb does the same), so pipes and tests work.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable

from pydbg.cli.commands.registry import TOP, CommandTable
from pydbg.cli.commands.scripting import set_terminal
from pydbg.cli.session import Session

PROMPT = "(pydbg) "
HISTORY_FILE = Path.home() / ".pydbg_history"


def _completions(table: CommandTable, words: list[str], partial: str) -> Iterable[str]:
    for word in words:
        try:
            cmd = table.lookup(word)
        except Exception:
            return []
        if cmd.subcommands is None:
            return []
        table = cmd.subcommands
    names = set(table.commands) | set(table.aliases)
    return sorted(n for n in names if n.startswith(partial))


def make_completer():
    from prompt_toolkit.completion import Completer, Completion

    class CommandCompleter(Completer):
        """Completes command names, descending into prefix commands (info, set, show)."""

        def get_completions(self, document, complete_event):
            text = document.text_before_cursor
            words = text.split()
            if text.endswith(" ") or not words:
                done, partial = words, ""
            else:
                done, partial = words[:-1], words[-1]
            for name in _completions(TOP, done, partial):
                yield Completion(name, start_position=-len(partial))

    return CommandCompleter()


def _ask_tty(question: str) -> bool:
    try:
        answer = input(question)
    except EOFError:
        return True
    return answer.strip().lower().startswith("y")


def run_repl(session: Session) -> int:
    session.confirm = _ask_tty
    if not sys.stdin.isatty():
        return _run_plain(session)
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    try:
        history = FileHistory(str(HISTORY_FILE))
    except OSError:
        history = None
    prompt = PromptSession(history=history, completer=make_completer(),
                           complete_while_typing=False)

    def continuation(text: str) -> str | None:
        # Bodies of define/commands/if/while/python, at gdb's ">" prompt.
        try:
            return prompt.prompt(text)
        except EOFError:
            return None

    set_terminal(session, continuation)
    while not session.quit_requested:
        try:
            line = prompt.prompt(PROMPT)
        except KeyboardInterrupt:
            print("Quit")
            continue
        except EOFError:
            print("quit")
            break
        _execute_interactive(session, line)
    session.target.close()
    return session.exit_code


def _execute_interactive(session: Session, line: str) -> None:
    if not line.strip():
        if session.last_command and session.repeatable(session.last_command):
            session.execute(session.last_command, from_repeat=True)
        return
    session.last_command = line
    session.execute(line)


def _read_plain(prompt: str) -> str | None:
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None


def _run_plain(session: Session) -> int:
    set_terminal(session, _read_plain, interactive=False)
    for line in sys.stdin:
        _execute_interactive(session, line.rstrip("\n"))
        if session.quit_requested:
            break
    session.target.close()
    return session.exit_code
