"""The bundled demo program: its C source ships in the package and is compiled on first use."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from pydbg.errors import PydbgError


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pydbg"


def build_demo() -> Path:
    """Compile demo.c with gcc (-g -O0) into the cache, once per source version."""
    source = resources.files("pydbg.demo").joinpath("demo.c").read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:12]
    out_dir = cache_dir() / f"demo-{digest}"
    exe = out_dir / "demo"
    if exe.exists():
        return exe
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        raise PydbgError("pydbg --demo needs a C compiler: gcc was not found on PATH "
                         "(install it, e.g. `apt-get install gcc`).")
    out_dir.mkdir(parents=True, exist_ok=True)
    src = out_dir / "demo.c"
    src.write_bytes(source)
    tmp = out_dir / "demo.tmp"
    proc = subprocess.run([gcc, "-g", "-O0", "-o", str(tmp), "demo.c"], cwd=out_dir,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise PydbgError(f"Compiling the demo failed:\n{proc.stderr.strip()}")
    os.replace(tmp, exe)
    return exe
