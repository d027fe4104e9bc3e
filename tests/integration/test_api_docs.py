"""docs/api.md stays true: every ```python example runs against the trace_calls fixture
and must print exactly the ```text block that follows it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import CLEAN_ENV, REPO

DOC = REPO / "docs" / "api.md"
_BLOCK = re.compile(r"```python\n(.*?)```\n\n```text\n(.*?)```", re.S)


def examples() -> list[tuple[str, str]]:
    return _BLOCK.findall(DOC.read_text())


def run_example(code: str, workdir) -> subprocess.CompletedProcess:
    env = dict(CLEAN_ENV, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-u", "-c", code], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("apidocs")
    shutil.copy(build("trace_calls.c", VARIANTS["O0"]), path / "trace_calls")
    return path


def test_every_python_example_has_its_output():
    text = DOC.read_text()
    assert text.count("```python") == len(examples()) >= 6


@pytest.mark.parametrize("index", range(len(examples())))
def test_api_doc_example(index, workdir):
    code, expected = examples()[index]
    got = run_example(code, workdir)
    assert got.returncode == 0, got.stderr
    assert got.stdout == expected, got.stderr


if __name__ == "__main__":     # print every example's output (to update the doc by hand)
    work = REPO / ".fixture-cache" / "apidocs"
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(build("trace_calls.c", VARIANTS["O0"]), work / "trace_calls")
    for code, _ in examples():
        result = run_example(code, work)
        print(result.stdout + result.stderr + "-" * 40)
