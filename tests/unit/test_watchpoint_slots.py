"""Debug register allocation for watchpoints, without a process: how ranges split into
aligned 1/2/4/8-byte pieces (as gdb's x86_handle_nonaligned_watchpoint) and DR7's bits
(Intel SDM vol. 3, 17.2.4: L0-L3 at bits 0/2/4/6, LE at 8, R/W and LEN fields from 16)."""

from __future__ import annotations

from pydbg.engine.watchpoints import (RW_ACCESS, RW_WRITE, dr7_value, slots_for,
                                      split_range)


def test_aligned_objects_take_one_register() -> None:
    assert split_range(0x4010, 1) == [(0x4010, 1)]
    assert split_range(0x4012, 2) == [(0x4012, 2)]
    assert split_range(0x4014, 4) == [(0x4014, 4)]
    assert split_range(0x4018, 8) == [(0x4018, 8)]


def test_unaligned_and_long_objects_split() -> None:
    # an int at an odd address: a byte, a word, a byte
    assert split_range(0x4021, 4) == [(0x4021, 1), (0x4022, 2), (0x4024, 1)]
    assert split_range(0x4003, 8) == [(0x4003, 1), (0x4004, 4), (0x4008, 2), (0x400a, 1)]
    assert split_range(0x4010, 16) == [(0x4010, 8), (0x4018, 8)]
    assert len(split_range(0x4040, 40)) == 5
    assert split_range(0x4016, 3) == [(0x4016, 2), (0x4018, 1)]


def test_identical_pieces_share_a_register() -> None:
    assert slots_for([(0x4010, 8), (0x4014, 4), (0x4010, 8)], RW_WRITE) == [
        (0x4010, 8, RW_WRITE), (0x4014, 4, RW_WRITE)]


def test_dr7_bits() -> None:
    assert dr7_value([]) == 0
    # DR0: enabled (L0), LE, R/W 01 (write) at 16-17, LEN 11 (4 bytes) at 18-19
    assert dr7_value([(0x4014, 4, RW_WRITE)]) == 0x1 | 0x100 | (0b01 << 16) | (0b11 << 18)
    # DR1 too: L1 at bit 2, R/W 11 (access) and LEN 10 (8 bytes) at 20-23
    assert dr7_value([(0x4014, 1, RW_WRITE), (0x4018, 8, RW_ACCESS)]) == \
        0x1 | 0x4 | 0x100 | (0b01 << 16) | (0b00 << 18) | (0b11 << 20) | (0b10 << 22)
