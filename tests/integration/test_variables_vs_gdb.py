"""print, info locals/args, ptype/whatis, bt full and frame arguments against gdb.

Each scenario runs the same commands under gdb (the oracle) and pydbg on the same binary
and compares stdout and stderr: every C type shape of types.c, DWARF 5 location lists and
entry values (locations.c at -O2), VLAs, inlined frames, libc frames with debug info, and
data_values.c (repeats, strings, bitfields, flag enums, recursion, float/struct arguments).
"""

from __future__ import annotations

import pytest

from tests.support.build import VARIANTS, build
from tests.support.oracle import normalize, run_gdb, run_pydbg

TYPES_PRINT = [
    'break area', 'run', 'p v_char', 'p v_uchar', 'p v_float', 'p v_double', 'p v_ldouble',
    'p v_bool', 'p v_cfloat', 'p v_int128', 'p v_i8', 'p v_wchar', 'p v_str', 'p v_strp',
    'p v_constp', 'p v_cpc', 'p v_voidp', 'p v_cvoidp', 'p v_rect', 'p v_flags', 'p v_shape',
    'p v_number', 'p v_packet', 'p v_points', 'p v_anon_struct', 'p v_perm', 'p v_sparse',
    'p v_neg', 'p v_multi', 'p (enum perm)8', 'p (enum perm)12', 'p (enum perm)0',
    'p (enum color)7', 'p v_point_ptr', 'p v_int_arr4', 'p v_cstr', 'p v_buf', 'p v_matrix',
    'p v_names', 'p v_arr_ptr', 'p v_fnptr', 'p v_binop', 'p v_fnarr', 'p add', 'p &add',
    'p *add', 'p file_static_str', 'p v_cube', 'p s', 'p *s', 'p/x *s', 'p $rip',
    'p &v_points[1]', 'p &v_points[1].y', 'p v_node', 'p &v_node', 'p *&v_node', 'p v_opaque',
    'p *v_opaque', 'p main', 'p v_vfn', 'p v_myint3', 'p v_color_t', 'p/x v_flags',
    'p/d v_str', 'p/x v_double', 'p/f v_int', 'p/f 3', 'p/c v_int_arr4', 'p/x v_buf',
    'p/s v_int', 'p/t 10', 'p/o 8', 'p/x -1', 'p/z 5', 'p/u (char)-1',
    'p/d (unsigned char)200', 'p/x v_bool', 'p/d v_color', 'p/x v_perm', 'p/c 65',
    'p/f v_double', 'p/x v_float', 'info locals', 'info args',
]

TYPES_EXPR = [
    'break area', 'run', 'p v_packet->data', 'p v_points[1]', 'p &v_points', 'p *v_points@2',
    'p v_buf[1]', 'p *v_str', 'p v_int + 1.5', 'p 7/2', 'p 7.0/2', 'p 1==1', 'p v_uint - 5',
    'p -v_uint', "p 'A' + 1", 'p "abc"', 'p sizeof(struct shape)', 'p sizeof v_rect',
    'p (char)65', 'p (long)v_str', 'p (struct point *)v_voidp', 'p *(struct point *)v_voidp',
    'p v_point_ptr->x', 'p v_point.z', 'p v_int.x', 'p nosuch', 'p $nonexistent', 'p $_',
    'p $1', 'p $', 'p $$2', 'set var v_int = 77', 'p v_int', 'p v_flags.mode = 7',
    'p v_flags.delta = -1', 'p v_flags', 'p $foo = 5', 'p $foo * 2', 'p v_double * 2',
    'p 10 % 3', 'p 1 << 40', 'p 1/0', 'p v_str == 0', 'p v_str + 1',
    'p &v_points[2] - &v_points[0]', 'p !v_int', 'p ~0', 'p v_fnptr == add', 'p/c v_buf',
    'output v_point', 'p -5 / 2', 'p -5 % 2', 'p 5 > 3 && 2 > 1', 'p 3 ? 4 : 5',
    'p (float)1/3', 'p 2147483647 + 1', 'p 4294967296', 'p 1.5f', "p 'a'", "p '\\n'",
    'p v_ulong * -1', 'whatis sizeof(int)', 'whatis 1 + 1L', 'whatis v_char + 1', "whatis 'a'",
    'whatis 1.5f + 1', 'whatis v_points[0]', 'whatis &v_points', 'whatis *v_points@2',
    'ptype v_shape', 'whatis v_myint3', 'whatis myint3', 'ptype myint3', 'ptype binop_fn',
    'ptype int*', 'whatis (char)1', 'p v_rect.tl = v_point', 'p v_rect', 'p $_', 'x/2x &v_int',
    'p $_', 'p $__', 'p v_points[5]', 'p *(int*)0', 'p v_int = 3.7', 'p v_int',
    'p v_double = 7', 'p s->kind', 'p s[0].w', 'p *s->next', 'p &s', 'p &*s', 'p $rsp',
    'p $sp', 'p $pc', 'whatis $rsp', 'whatis $eax', 'ptype $rip', 'p v_int++', 'p v_int',
    'p/d 1.5', 'p/u -1.5', 'p/c 65.3', 'p/o 1.5', 'p/t 1.5', 'p/x -1.5', 'p/f 1.5',
    'p/x v_str', 'p/x &v_int', 'p/s v_str', 'p/s v_buf', 'p/x v_points', 'p/d v_buf',
    'p/c 321', 'p/x v_ldouble', 'p/f v_ldouble', 'p v_ldouble * 2', 'whatis v_ldouble * 2',
    'p/x (short)-1', 'p/u (short)-1', 'p/d (unsigned short)65535', 'p/t 0', 'p/x 0', 'p/o 0',
    'p/c v_buf[0]', 'p/a &v_int', 'p/a v_fnptr', 'p/s v_uchar', 'p v_fnarr[0]', 'p *v_fnptr',
    'p/x v_fnptr', 'p v_cdouble', 'p v_uint128', 'p/x v_int128', 'p -v_int128', 'p v_size',
    'whatis v_size', 'p sizeof(long double)', 'p v_float + 1', 'whatis v_float + 1',
    'whatis v_float + 1.0', 'p 5000000000', 'whatis 5000000000', 'p 0xffffffff',
    'whatis 0xffffffff', 'p v_uchar + v_uchar', 'p v_bool + 1', 'p v_color == GREEN',
    'p GREEN', 'p GREEN + 1', 'whatis GREEN', 'p (enum color)1', 'p/d GREEN', 'p RED == 0',
    'p sizeof(v_points)/sizeof(v_points[0])', 'whatis sizeof(v_points)', 'p v_points + 1',
    'p *v_points', 'p v_buf + 1', 'p *v_buf@3', 'p v_buf[0]@3', 'p v_int@2', 'p v_int@0',
    'whatis v_int@2', 'p &v_buf', 'p &v_buf[0]', 'p *&v_buf',
    'p (long)&v_buf[3] - (long)v_buf', "p 'types.c'::file_static", 'p counter_fn::calls',
    'p counter_fn::tag', 'p shadow::y', 'p v_anon_enum', 'p ANON_TWO', 'p v_number_t',
    'p v_const_point', 'p v_vmyint', 'p v_tpoints', 'p v_strfn', 'p v_mkpoint',
    'p v_fn_ret_fn', 'p v_cube_fn', 'p sizeof(myint3)', 'ptype struct flags',
    'ptype union number', 'ptype enum perm', 'whatis struct point', 'ptype point_t',
    'whatis point_t', 'ptype v_fnarr', 'whatis v_fnarr', 'ptype area', 'whatis area',
    'p v_int == 3 ? v_buf : v_str', "p v_str[0] == 'h'", 'p v_points[0].x + v_points[2].y',
]

TYPES_SCOPES = [
    'break shadow', 'break use_inline', 'break counter_fn', 'break vla_sum', 'break square',
    'run', 'info locals', 'info args', 'bt', 'p acc', 'p n', 'c', 'info locals', 'info args',
    'bt full', 'p calls', 'p tag', 'p counter_fn::calls', 'c', 'info locals', 'next', 'next',
    'next', 'info locals', 'p y', 'p x', 'p z', 'next', 'next', 'info locals', 'c',
    'info locals', 'p vla', 'p n', 'whatis vla', 'ptype vla', 'p sizeof(vla)',
    'p v_extern_decl', 'c', 'bt', 'info locals', 'info args', 'up', 'info locals', 'info args',
    'finish',
]

LOCATIONS = [
    'break loc_use', 'break loc_pieces', 'break loc_float', 'run', 'bt', 'up', 'info locals',
    'info args', 'p a', 'p a@entry', 'p sum', 'p prod', 'c', 'bt', 'c', 'c', 'c', 'c', 'c',
    'c', 'c', 'info locals', 'c', 'info locals', 'info args', 'p p', 'bt', 'c', 'info locals',
    'up', 'info locals', 'c', 'bt full', 'display d', 'display/x n', 'info display', 'c',
    'info display', 'p loc_tls', 'p loc_global', 'p &loc_global',
]

DATA_VALUES = [
    'print d_zeros', 'print d_ramp', 'print d_name', 'print d_long_text', 'print d_labels',
    'print d_bits', 'print d_word', 'print d_mode', 'print d_level', 'print d_origin',
    'print d_bad_ptr', 'print d_greeting', 'print d_values', 'print d_ratio', 'print d_ld',
    'print d_file_static', 'print d_blob', 'print d_callback', 'print sizeof(d_labels)',
    'ptype struct label', 'ptype struct bits', 'whatis d_labels[1].name', 'ptype union word',
    'ptype d_callback', 'break square', 'break depth if n == 0', 'break scale', 'break nested',
    'break changer', 'run', 'bt', 'info args', 'print *d_blob', 'print d_blob->data',
    'print *d_blob->data@d_blob->len', 'print d_blob->data[1]', 'print d_callback',
    'print/x d_labels', 'print d_labels[1].name', 'print &d_labels[1]', 'print *argv@argc',
    'print d_ramp[1]@3', 'print/x d_bits', 'set var d_bits.b = 3', 'print d_bits',
    'set var d_word.half[1] = 0xffff', 'print/x d_word', 'print d_mode | M_WRITE',
    'print (enum mode)(d_mode | 8)', 'continue', 'bt', 'info locals', 'info args', 'up',
    'info locals', 'info args', 'print n', 'print tag', 'print local', 'print $pc', 'up 2',
    'print n', 'down', 'frame 0', 'continue', 'info args', 'print p', 'print p.x * factor',
    'print factor', 'print bias', 'info locals', 'finish', 'continue', 'info locals', 'next',
    'next', 'next', 'info locals', 'print nested::calls',
    "print 'data_values.c'::d_file_static", 'continue', 'info args', 'next', 'next',
    'info args', 'bt',
]

DATA_VALUES_RUNNING = [
    'info locals', 'p argc', 'ptype struct nosuch', 'whatis nosuch', 'p sizeof(int[10])',
    'p d_ramp', 'break nested', 'run', 'p d_ramp', 'p d_long_text', 'p/x d_ramp[150]@12',
    'p d_ramp[148]@6', 'p -d_ramp[160]', 'p d_name', 'p/x d_name', 'p/d d_name', 'p/c d_zeros',
    'p &x', 'p &d_name[2]', 'p *&d_name[2]@3', 'p d_name + 1', 'p (long)d_name',
    'p d_labels[0].at', 'p &d_labels[0].at', 'p d_labels[0].at.x = 42', 'p d_labels[0]',
    "set var d_name[0] = 'S'", 'p d_name', 'p d_greeting[3]', 'p *d_greeting@4',
    'p d_values[1] * 2', 'p d_values[0] + d_ratio', 'p d_ratio * 3', 'whatis d_ratio * 3',
    'p d_ld', 'p d_ld / 3', 'p $rsp', 'p $sp + 8', 'p $eflags', 'p/x $eflags', 'p $rip == $pc',
    'p $foo', 'p $foo = d_origin', 'p $foo.x', 'p $bar = 10', 'p $bar++', 'p $bar', 'p ++$bar',
    'p $bar += 5', 'p $1', 'p $$', 'p $$3', 'p $', 'p d_callback', 'p *d_callback',
    'p d_callback == square', 'p square', 'p &square', 'p *square', 'whatis square',
    'whatis &square', 'ptype square', 'p d_mode', 'p d_mode == M_READ', 'p M_WRITE | M_EXEC',
    'p (enum mode)3', 'p (enum level)6', 'p/d HIGH', 'p LOW', 'p d_bits.b', 'p d_bits.c + 1',
    'p d_bits.on', 'whatis d_bits.on', 'whatis d_bits.a', 'p &d_bits.a', 'p d_word.b[3]',
    'p d_word.half', 'p d_blob->data[0] + d_blob->len', 'p d_blob->data', 'p *d_blob',
    'p d_blob[0]', 'p sizeof(*d_blob)', 'p sizeof d_blob->data[0]', 'p d_bad_ptr',
    'p *d_bad_ptr', 'p d_bad_ptr[1]', 'output d_labels', 'output 1+2', 'finish', 'p $',
    'p $_exitcode',
]

UNWIND = ["break unwind_leaf", "break signal_leaf", "run", "bt", "info locals", "up",
          "info locals", "info args", "continue", "bt", "frame 3", "info locals", "info args",
          "up", "info locals", "p $pc"]

SCENARIOS = {
    # name: (sources, commands, variants)
    "types-print": ("types.c", TYPES_PRINT, ["O0", "O2-nopie"]),
    "types-expr": ("types.c", TYPES_EXPR, ["O0", "O2"]),
    "types-scopes": ("types.c", TYPES_SCOPES, ["O0", "O2", "O0-nopie"]),
    "locations": ("locations.c", LOCATIONS, list(VARIANTS)),
    "data-values": ("data_values.c", DATA_VALUES, list(VARIANTS)),
    "data-values-running": ("data_values.c", DATA_VALUES_RUNNING, ["O0", "O2"]),
    "unwind-libc": ("unwind.c", UNWIND, ["O0", "O2"]),
    "inlined": (["inline_frames.c", "inline_frames_b.c"],
                ["break inner_inl", "break header_twice", "break other_file", "run", "bt",
                 "info locals", "info args", "up", "info locals", "info args", "up",
                 "info locals", "continue", "bt", "continue", "bt", "frame 1", "info locals",
                 "continue", "bt", "finish", "bt full"], ["O0", "O2"]),
    "recursion-conditions": ("stepping.c",
                             ["break factorial if n == 1", "run", "bt", "bt full", "frame 2",
                              "info args", "info locals", "p n", "p n * 2", "up", "p n"],
                             ["O0", "O2"]),
}

CASES = [(name, variant) for name, (_, _, variants) in SCENARIOS.items()
         for variant in variants]


def _both(text: str) -> str:
    return normalize(text)


@pytest.mark.parametrize("name,variant", CASES, ids=[f"{n}-{v}" for n, v in CASES])
def test_data_commands_match_gdb(name: str, variant: str) -> None:
    sources, commands, _ = SCENARIOS[name]
    exe = build(sources, VARIANTS[variant])
    expected = run_gdb(exe, commands)
    got = run_pydbg(exe, commands)
    assert _both(got.stdout) == _both(expected.stdout)
    assert got.stderr.strip() == expected.stderr.strip()


def test_entry_values_and_optimized_out_at_O2() -> None:
    """gcc 12 -O2: DWARF 5 location lists, DW_OP_entry_value resolved through the
    caller's DW_TAG_call_site, and <optimized out> where nothing says where a value is."""
    exe = build("locations.c", VARIANTS["O2"])
    out = run_pydbg(exe, ["break loc_use", "run", "bt", "up", "info locals"]).stdout
    assert "loc_use (v=v@entry=7) at locations.c:12" in out
    assert "loc_moving (a=a@entry=3, b=b@entry=4, c=c@entry=5)" in out
    assert "main (argc=<optimized out>, argv=<optimized out>)" in out
    assert "prod = <optimized out>" in out
