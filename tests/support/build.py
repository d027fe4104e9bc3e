"""Builds C fixture programs from fixtures/ with gcc, once per (sources, flags).

Binaries are cached under .fixture-cache/ keyed by a hash of the sources, the flags and the
gcc version, so a test session compiles each variant once and later sessions reuse it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
CACHE = Path(os.environ.get("PYDBG_FIXTURE_CACHE", REPO / ".fixture-cache"))

# The variants every feature is tested under: optimisation x PIE.
VARIANTS = {
    "O0": ["-O0"],
    "O2": ["-O2"],
    "O0-nopie": ["-O0", "-no-pie", "-fno-pie"],
    "O2-nopie": ["-O2", "-no-pie", "-fno-pie"],
}

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _gcc_version() -> str:
    return subprocess.run(["gcc", "--version"], capture_output=True, text=True, check=True).stdout


def build(sources: str | list[str], flags: list[str] | tuple[str, ...] = ("-O0",),
          name: str | None = None, debug: bool = True, strip: bool = False) -> Path:
    """Compile fixtures/SOURCES with FLAGS and return the cached binary's path."""
    if isinstance(sources, str):
        sources = [sources]
    paths = [FIXTURES / s for s in sources]
    all_flags = (["-g"] if debug else []) + list(flags)
    h = hashlib.sha256()
    # Headers are hashed too: a fixture may include any of them.
    for p in paths + sorted(FIXTURES.glob("*.h")):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    h.update(" ".join(all_flags).encode() + _gcc_version().encode() + str(strip).encode())
    stem = name or Path(sources[0]).stem
    out = CACHE / f"{stem}-{h.hexdigest()[:16]}" / stem
    with _lock:
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(".tmp")
            # Compile from the fixtures directory with relative names so DWARF names
            # look like gdb users expect (e.g. "basic.c"), with comp_dir = fixtures/.
            subprocess.run(["gcc", *all_flags, "-o", str(tmp), *sources], cwd=FIXTURES,
                           check=True, capture_output=True, text=True)
            if strip:
                subprocess.run(["strip", str(tmp)], check=True)
            os.replace(tmp, out)
    return out
