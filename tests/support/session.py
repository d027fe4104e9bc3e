"""An in-process batch Session with captured output, for fast end-to-end command tests."""

from __future__ import annotations

import io

from tests.support.oracle import CLEAN_ENV


class Recorder:
    """A Session plus its captured stdout/stderr; run() returns what one command printed."""

    def __init__(self, exe=None, args=()) -> None:
        from pydbg.cli import commands  # noqa: F401
        from pydbg.cli.session import Session
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.session = Session(stdout=self.stdout, stderr=self.stderr, batch=True,
                               from_tty=False)
        self.session.target.settings.environment = dict(CLEAN_ENV)
        if exe is not None:
            self.session.target.load_executable(str(exe))
            self.session.target.args = [str(a) for a in args]

    @property
    def target(self):
        return self.session.target

    def run(self, line: str) -> str:
        start_out, start_err = self.stdout.tell(), self.stderr.tell()
        self.ok = self.session.execute(line)
        self.last_error = self.stderr.getvalue()[start_err:]
        return self.stdout.getvalue()[start_out:]

    def error(self, line: str) -> str:
        """Run a command that must fail; return its error text (one line, stripped)."""
        self.run(line)
        assert not self.ok, f"{line!r} should have failed"
        return self.last_error.strip()

    def close(self) -> None:
        self.session.target.close()
