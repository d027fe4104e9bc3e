"""Stop values: the source location is worked out only when something reads it."""

from __future__ import annotations

from pydbg.engine.stops import CodeLocation, Stop, StopKind


def test_location_is_located_once_on_first_read() -> None:
    calls: list[int] = []

    def locate(pc: int) -> CodeLocation:
        calls.append(pc)
        return CodeLocation(pc, "f")

    stop = Stop(StopKind.BREAKPOINT, 1, pc=0x1139, locator=locate)
    assert calls == []
    assert stop.location == CodeLocation(0x1139, "f")
    assert stop.location.function == "f"
    assert calls == [0x1139]


def test_given_or_assigned_location_wins_over_locator() -> None:
    given = CodeLocation(5, "g")
    stop = Stop(StopKind.STEP, 1, pc=5, location=given,
                locator=lambda pc: CodeLocation(pc, "never"))
    assert stop.location is given
    stop.location = CodeLocation(6, "h")
    assert stop.location.function == "h"


def test_no_pc_or_no_locator_means_no_location() -> None:
    assert Stop(StopKind.EXITED, 1).location is None
    assert Stop(StopKind.STEP, 1, locator=lambda pc: CodeLocation(pc)).location is None
    assert Stop(StopKind.STEP, 1, pc=3).location is None
