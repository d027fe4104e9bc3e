"""The direction of imports: ptrace and symbols never import each other; front ends sit on top.

Checked with ast on the source tree, so a stray import fails here rather than in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "pydbg"

# package -> pydbg packages it must not import
FORBIDDEN = {
    "ptrace": {"symbols", "engine", "cli", "api", "disasm"},
    "symbols": {"ptrace", "engine", "cli", "api", "disasm"},
    "arch": {"ptrace", "symbols", "engine", "cli", "api"},
    "disasm": {"ptrace", "symbols", "engine", "cli", "api"},
    "engine": {"cli", "api"},
    "cli": {"ptrace"},          # front ends go through the engine for process control
}


def pydbg_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "pydbg" and len(parts) > 1:
                found.add(parts[1])
    return found


def layer_of(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0].removesuffix(".py")


def test_import_direction():
    problems = []
    for path in PKG.rglob("*.py"):
        layer = layer_of(path)
        for imported in pydbg_imports(path) & FORBIDDEN.get(layer, set()):
            problems.append(f"{path.relative_to(PKG)} imports pydbg.{imported}")
    assert not problems, "\n".join(sorted(problems))


def test_only_the_ptrace_package_imports_python_ptrace():
    offenders = []
    for path in PKG.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module]
            if any(m == "ptrace" or m.startswith("ptrace.") for m in mods) and \
                    layer_of(path) != "ptrace":
                offenders.append(str(path.relative_to(PKG)))
    assert not offenders
