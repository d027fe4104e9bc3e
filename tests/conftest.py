"""Shared test set-up: make the repository importable and fail loudly without ptrace in CI."""

import compileall
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def pytest_configure(config) -> None:
    # The tests start pydbg as a subprocess hundreds of times. Where the environment sets
    # PYTHONDONTWRITEBYTECODE (these machines do), an editable install has no bytecode
    # and every start would compile all of pydbg again (about 0.13 s each); a regular
    # `pip install` compiles it once, as this does. Up-to-date files are skipped, and
    # the writes are atomic, so xdist workers doing it together is harmless.
    compileall.compile_dir(str(REPO / "pydbg"), quiet=2)
