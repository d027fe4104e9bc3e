"""DW_TAG_call_site (DWARF 5) and DW_TAG_GNU_call_site: what a caller passed at each call.

gdb resolves DW_OP_entry_value and `param@entry` through these; pure, no process involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from elftools.dwarf.die import DIE

_SITE_TAGS = ("DW_TAG_call_site", "DW_TAG_GNU_call_site")
_PARAM_TAGS = ("DW_TAG_call_site_parameter", "DW_TAG_GNU_call_site_parameter")
_ADDR_FORMS = {"DW_FORM_addr", "DW_FORM_addrx", "DW_FORM_addrx1", "DW_FORM_addrx2",
               "DW_FORM_addrx3", "DW_FORM_addrx4", "DW_FORM_GNU_addr_index"}


@dataclass(frozen=True)
class CallSiteParameter:
    """LOCATION says where the callee finds the argument (usually DW_OP_regN); VALUE is a
    DWARF expression computing it in the caller's frame."""
    location: bytes
    value: bytes | None
    data_value: bytes | None = None


@dataclass
class CallSite:
    """One call instruction, keyed by the return address (link-time)."""
    return_pc: int
    origin_name: str | None = None      # the called function, when known statically
    target: bytes | None = None         # DW_AT_call_target: computes the callee address
    tail_call: bool = False
    parameters: list[CallSiteParameter] = field(default_factory=list)


def _expr(die: DIE, *names: str) -> bytes | None:
    for name in names:
        a = die.attributes.get(name)
        if a is not None and isinstance(a.value, (list, tuple, bytes)):
            return bytes(a.value)
    return None


def _name_of(die: DIE | None) -> str | None:
    seen = 0
    while die is not None and seen < 8:
        a = die.attributes.get("DW_AT_name")
        if a is not None:
            v = a.value
            return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
        nxt = None
        for ref in ("DW_AT_abstract_origin", "DW_AT_specification"):
            if ref in die.attributes:
                try:
                    nxt = die.get_DIE_from_attribute(ref)
                except Exception:      # a dangling reference: no name
                    nxt = None
                break
        die = nxt
        seen += 1
    return None


def _site(die: DIE) -> CallSite | None:
    ret = die.attributes.get("DW_AT_call_return_pc") or die.attributes.get("DW_AT_low_pc")
    if ret is None or not isinstance(ret.value, int):
        return None
    origin = None
    for ref in ("DW_AT_call_origin", "DW_AT_abstract_origin"):
        if ref in die.attributes:
            try:
                origin = _name_of(die.get_DIE_from_attribute(ref))
            except Exception:          # pyelftools cannot follow every reference form
                origin = None
            break
    site = CallSite(
        return_pc=ret.value, origin_name=origin,
        target=_expr(die, "DW_AT_call_target", "DW_AT_GNU_call_site_target"),
        tail_call=bool(die.attributes.get("DW_AT_call_tail_call")
                       or die.attributes.get("DW_AT_GNU_tail_call")))
    for child in die.iter_children():
        if child.tag not in _PARAM_TAGS:
            continue
        loc = _expr(child, "DW_AT_location")
        if loc is None:
            continue
        site.parameters.append(CallSiteParameter(
            loc, _expr(child, "DW_AT_call_value", "DW_AT_GNU_call_site_value"),
            _expr(child, "DW_AT_call_data_value", "DW_AT_GNU_call_site_data_value")))
    return site


def call_sites_of(function_die: DIE) -> dict[int, CallSite]:
    """Every call site inside a function (inlined blocks included), by return address."""
    out: dict[int, CallSite] = {}
    stack = [function_die]
    while stack:
        die = stack.pop()
        for child in die.iter_children():
            if child.tag in _SITE_TAGS:
                site = _site(child)
                if site is not None:
                    out[site.return_pc] = site
            elif child.tag in ("DW_TAG_lexical_block", "DW_TAG_inlined_subroutine"):
                stack.append(child)
    return out


def register_of(expr: bytes) -> int | None:
    """The register N of an expression that is exactly DW_OP_regN / DW_OP_regx N."""
    if len(expr) == 1 and 0x50 <= expr[0] <= 0x6F:
        return expr[0] - 0x50
    if expr[:1] == b"\x90":
        n = shift = 0
        for i, b in enumerate(expr[1:], 1):
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n if i == len(expr) - 1 else None
    return None


__all__ = ["CallSite", "CallSiteParameter", "call_sites_of", "register_of"]
