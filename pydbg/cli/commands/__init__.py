"""Every command module, imported for its registrations; prefix commands declared first."""

from pydbg.cli.commands.registry import prefix_command

prefix_command("info", group="status", aliases=("i", "inf"),
               doc="Generic command for showing things about the program being debugged.")
prefix_command("proc", parent="info", group="status",
               doc="Show additional information about a process.")
prefix_command("show", group="support", doc="Generic command for showing things about the debugger.")


def _set_handler(session, arg):
    # Plain `set $x = 1` / `set var = 1` is an assignment, as in gdb.
    session.evaluate(arg)


prefix_command("set", group="support", handler=_set_handler, allow_unknown_sub=True,
               doc="Evaluate expression EXP and assign result to variable VAR.\n"
                   "Usage: set VAR = EXP, or set SETTING VALUE (see \"help set\" for settings).")

from pydbg.cli.commands import breakpoints, data, running, support  # noqa: E402,F401
from pydbg.cli.commands import maint  # noqa: E402,F401
from pydbg.cli.commands import scripting  # noqa: E402,F401
from pydbg.cli.commands import source, stack, stepping  # noqa: E402,F401
from pydbg.cli.commands import variables  # noqa: E402,F401
from pydbg.cli.commands import watchpoints  # noqa: E402,F401
from pydbg.cli.commands import signals, symbols_info  # noqa: E402,F401
from pydbg.cli.commands import threads  # noqa: E402,F401
from pydbg.cli.commands import debug  # noqa: E402,F401
