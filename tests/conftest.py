"""Shared test set-up: make the repository importable and fail loudly without ptrace in CI."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
