"""Logical breakpoints: what the user asked for, owning zero or more locations.

Each enabled location of an enabled breakpoint maps to one BreakpointSite (one int3) in the
process; several breakpoints at one address share a site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from pydbg.errors import PydbgError


@dataclass
class BreakpointLocation:
    """One address a breakpoint resolved to, kept image-relative so it survives a re-run."""
    file_address: int
    image_path: str
    address: int | None = None        # runtime address, once the image's load bias is known
    function: str | None = None
    file: str | None = None           # file name as gdb shows it ("basic.c")
    line: int | None = None
    enabled: bool = True


@dataclass
class Breakpoint:
    number: int
    spec: str                          # the location as typed, re-resolved on each run
    kind: str = "breakpoint"           # "breakpoint" | "hw watchpoint" | "dprintf" | ...
    temporary: bool = False
    enabled: bool = True
    condition: str | None = None
    condition_ast: Any = None
    ignore_count: int = 0
    hit_count: int = 0
    locations: list[BreakpointLocation] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    internal: bool = False             # engine-owned (start's main, finish's return address...)
    thread: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> bool:
        return not self.locations

    def addresses(self) -> Iterable[int]:
        for loc in self.locations:
            if loc.enabled and loc.address is not None:
                yield loc.address

    def description(self) -> str:
        """gdb's 'Breakpoint N' / 'Temporary breakpoint N' prefix."""
        word = "Temporary breakpoint" if self.temporary else "Breakpoint"
        if self.kind == "dprintf":
            word = "Dprintf"
        return f"{word} {self.number}"


class BreakpointTable:
    """Numbered breakpoints (user-visible numbers start at 1; internal ones are negative)."""

    def __init__(self) -> None:
        self._by_number: dict[int, Breakpoint] = {}
        self._next = 1
        self._next_internal = -1

    def new(self, spec: str, *, internal: bool = False, **kwargs: Any) -> Breakpoint:
        if internal:
            number, self._next_internal = self._next_internal, self._next_internal - 1
        else:
            number, self._next = self._next, self._next + 1
        bp = Breakpoint(number, spec, internal=internal, **kwargs)
        self._by_number[number] = bp
        return bp

    def get(self, number: int) -> Breakpoint | None:
        return self._by_number.get(number)

    def remove(self, number: int) -> Breakpoint | None:
        return self._by_number.pop(number, None)

    def user_breakpoints(self) -> list[Breakpoint]:
        return sorted((b for b in self._by_number.values() if not b.internal),
                      key=lambda b: b.number)

    def all(self) -> list[Breakpoint]:
        return list(self._by_number.values())

    def at_address(self, address: int) -> list[Breakpoint]:
        """Enabled breakpoints with an enabled location at address, in number order."""
        # Asked on every breakpoint hit: plain loops, no generators.
        found = []
        for b in self._by_number.values():
            if b.enabled:
                for loc in b.locations:
                    if loc.address == address and loc.enabled:
                        found.append(b)
                        break
        if len(found) > 1:
            found.sort(key=lambda b: (b.internal, abs(b.number)))
        return found

    def wanted_addresses(self) -> set[int]:
        wanted: set[int] = set()
        for b in self._by_number.values():
            # (watchpoint_scope: the return address of a frame a watchpoint uses;
            # call_dummy: where a function called from an expression returns)
            if b.enabled and b.kind in ("breakpoint", "dprintf", "watchpoint_scope",
                                        "call_dummy"):
                wanted.update(b.addresses())
        return wanted

    def __iter__(self):
        return iter(self.user_breakpoints())

    def __len__(self) -> int:
        return len(self._by_number)


def decide_hit(bp: Breakpoint, check_condition: Callable[[Breakpoint], bool] | None,
               error: str | None) -> tuple[bool, str | None]:
    """gdb's bpstat_check_breakpoint_conditions and what follows, for a breakpoint or
    watchpoint that was reached: its condition (one that cannot be evaluated stops, its
    error kept in ERROR), then its ignore count, counting the hit, then `enable once` /
    `enable count`. Returns (stops?, the error so far)."""
    if bp.condition and check_condition is not None:
        try:
            if not check_condition(bp):
                return False, error
        except PydbgError as exc:
            error = f"Error in testing breakpoint condition:\n{exc}"   # gdb 13.1
    bp.hit_count += 1
    if bp.ignore_count > 0 and error is None:
        bp.ignore_count -= 1
        return False, error
    if "enable_count" in bp.extra:     # gdb's disp_disable
        bp.extra["enable_count"] -= 1
        if bp.extra["enable_count"] <= 0:
            bp.enabled = False
    return True, error
