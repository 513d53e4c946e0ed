"""GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) and septet packing (TS 23.040 §9.2.3.24).

Pure functions, no I/O.  Text goes to *septets* (one ``int`` 0..127 per septet, kept in
``bytes``) with :func:`encode`, septets go back to text with :func:`decode`;
:func:`pack` / :func:`unpack` move septets in and out of octets, LSB first, starting at a
given bit offset so that GSM-7 user data after a UDH begins on a septet boundary.

Characters of the extension table (``€ [ ] { } ~ ^ \\ |`` and form feed) are written as
ESC (0x1B) plus one septet and cost two septets; :func:`char_cost` reports that cost.
"""

from __future__ import annotations

__all__ = [
    "BASIC",
    "ESC",
    "EXTENSION",
    "char_cost",
    "decode",
    "encode",
    "is_encodable",
    "pack",
    "septet_length",
    "unpack",
]

ESC = 0x1B

# The basic table, indexed by septet value.  0x1B is the escape to the extension table and
# decodes to a space on its own (TS 23.038 §6.2.1.1 note 1); it is never produced from text.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

# The extension table (TS 23.038 §6.2.1.1): septet after ESC -> character.
EXTENSION: dict[int, str] = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

_ENCODE_BASIC: dict[str, int] = {ch: i for i, ch in enumerate(BASIC) if i != ESC}
_ENCODE_EXT: dict[str, int] = {ch: code for code, ch in EXTENSION.items()}


def char_cost(ch: str) -> int:
    """Septets one character costs: 1 (basic), 2 (extension), 0 if not in GSM-7."""
    if ch in _ENCODE_BASIC:
        return 1
    if ch in _ENCODE_EXT:
        return 2
    return 0


def is_encodable(text: str) -> bool:
    """True when every character of ``text`` is in the default alphabet or its extension."""
    return all(ch in _ENCODE_BASIC or ch in _ENCODE_EXT for ch in text)


def septet_length(text: str) -> int:
    """Septets needed for ``text`` (escape pairs count 2); ``ValueError`` if not encodable."""
    total = 0
    for ch in text:
        cost = char_cost(ch)
        if cost == 0:
            raise ValueError(f"character {ch!r} is not in the GSM 7-bit alphabet")
        total += cost
    return total


def encode(text: str) -> bytes:
    """Text -> septet values (one per byte); ``ValueError`` for a character outside GSM-7."""
    out = bytearray()
    for ch in text:
        code = _ENCODE_BASIC.get(ch)
        if code is not None:
            out.append(code)
            continue
        code = _ENCODE_EXT.get(ch)
        if code is None:
            raise ValueError(f"character {ch!r} is not in the GSM 7-bit alphabet")
        out += bytes((ESC, code))
    return bytes(out)


def decode(septets: bytes) -> str:
    """Septet values -> text; never fails.

    TS 23.038 §6.2.1.1: an escape followed by a septet the extension table does not define
    shows the basic-table character of that septet; ESC ESC (reserved for a further
    extension table) and a dangling ESC at the end show a space.  Values above 0x7F (not
    possible after :func:`unpack`) are masked to 7 bits.
    """
    out: list[str] = []
    i = 0
    n = len(septets)
    while i < n:
        code = septets[i] & 0x7F
        i += 1
        if code != ESC:
            out.append(BASIC[code])
            continue
        if i >= n:
            out.append(" ")
            break
        nxt = septets[i] & 0x7F
        i += 1
        if nxt == ESC:
            out.append(" ")
        else:
            out.append(EXTENSION.get(nxt, BASIC[nxt]))
    return "".join(out)


def pack(septets: bytes, start_bit: int = 0) -> bytes:
    """Pack septets LSB-first into octets, the first septet starting at bit ``start_bit``.

    The octets below ``start_bit`` are zero; callers put the UDH there.  The result has
    ``ceil((start_bit + 7 * len(septets)) / 8)`` octets.
    """
    value = 0
    for i, septet in enumerate(septets):
        value |= (septet & 0x7F) << (start_bit + 7 * i)
    n_octets = (start_bit + 7 * len(septets) + 7) // 8
    return value.to_bytes(n_octets, "little")


def unpack(octets: bytes, count: int, skip: int = 0) -> bytes:
    """Septets ``skip`` .. ``count - 1`` of the packed ``octets`` (``count`` includes ``skip``).

    ``ValueError`` if ``octets`` are too short to hold ``count`` septets.
    """
    if count < skip or len(octets) * 8 < count * 7:
        raise ValueError(f"{len(octets)} octets cannot hold {count} septets")
    value = int.from_bytes(octets, "little")
    return bytes((value >> (7 * i)) & 0x7F for i in range(skip, count))
