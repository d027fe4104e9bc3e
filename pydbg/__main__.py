"""Allows `python -m pydbg`."""

import sys

from pydbg.cli.main import main

sys.exit(main())
