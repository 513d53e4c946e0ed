"""GSM 7-bit alphabet and septet packing (TS 23.038 §6.2.1, TS 23.040 §9.2.3.24)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modem.pdu import gsm7

EXTENSION_CHARS = "€[]{}~^\\|\f"


def test_table_has_128_entries_and_known_positions() -> None:
    """The basic table is complete and the tricky positions hold the right characters."""
    assert len(gsm7.BASIC) == 128
    assert gsm7.BASIC[0x00] == "@"
    assert gsm7.BASIC[0x02] == "$"
    assert gsm7.BASIC[0x11] == "_"
    assert gsm7.BASIC[0x24] == "¤"
    assert gsm7.BASIC[0x40] == "¡"
    assert gsm7.BASIC[0x5F] == "§"
    assert gsm7.BASIC[0x60] == "¿"
    assert gsm7.BASIC[0x7F] == "à"


@pytest.mark.parametrize("ch", list(EXTENSION_CHARS))
def test_extension_chars_cost_two_septets(ch: str) -> None:
    """Every extension character is ESC + one septet."""
    septets = gsm7.encode(ch)
    assert len(septets) == 2
    assert septets[0] == gsm7.ESC
    assert gsm7.char_cost(ch) == 2
    assert gsm7.decode(septets) == ch


def test_euro_is_escape_0x65() -> None:
    """The euro sign is ESC 0x65 (TS 23.038 table 6.2.1.1)."""
    assert gsm7.encode("€") == b"\x1b\x65"


@pytest.mark.parametrize("ch", ["ç", "😀", "`", "\t", "ê"])
def test_non_gsm_characters_are_refused(ch: str) -> None:
    """Characters outside GSM-7 are reported, not silently replaced."""
    assert not gsm7.is_encodable(ch)
    with pytest.raises(ValueError, match="not in the GSM 7-bit alphabet"):
        gsm7.encode(ch)
    with pytest.raises(ValueError, match="not in the GSM 7-bit alphabet"):
        gsm7.septet_length("a" + ch)


def test_unknown_escape_shows_the_base_character() -> None:
    """ESC + an undefined extension code decodes as the basic character (TS 23.038 note)."""
    assert gsm7.decode(bytes((gsm7.ESC, 0x41))) == "A"


def test_escape_escape_and_dangling_escape_are_spaces() -> None:
    """ESC ESC and a final lone ESC display a space instead of failing."""
    assert gsm7.decode(bytes((0x41, gsm7.ESC, gsm7.ESC, 0x42))) == "A B"
    assert gsm7.decode(bytes((0x41, gsm7.ESC))) == "A "


def test_pack_hellohello() -> None:
    """The classic 'hellohello' packs to E8329BFD4697D9EC37."""
    assert gsm7.pack(gsm7.encode("hellohello")).hex().upper() == "E8329BFD4697D9EC37"


def test_pack_eight_septets_fill_seven_octets() -> None:
    """Eight septets need exactly seven octets."""
    assert len(gsm7.pack(gsm7.encode("12345678"))) == 7


def test_pack_with_one_fill_bit_after_six_octet_udh() -> None:
    """After a 6-octet UDH the first septet starts at bit 49: one fill bit."""
    packed = gsm7.pack(b"\x41", start_bit=49)
    assert packed[:6] == bytes(6)
    assert packed[6] == 0x41 << 1


def test_pack_without_fill_after_seven_octet_udh() -> None:
    """After a 7-octet UDH (56 bits) no fill bits are needed."""
    packed = gsm7.pack(b"\x41", start_bit=56)
    assert packed[7] == 0x41


def test_unpack_refuses_too_few_octets() -> None:
    """Asking for more septets than the octets hold is an error, not garbage."""
    with pytest.raises(ValueError, match="cannot hold"):
        gsm7.unpack(b"\x00\x00", 3)


@settings(max_examples=200)
@given(st.binary(max_size=60).map(lambda b: bytes(x & 0x7F for x in b)), st.integers(0, 20))
def test_pack_unpack_round_trip(septets: bytes, skip: int) -> None:
    """unpack(pack(s, 7*k), k+n, k) gives back s for any septets and offset."""
    packed = gsm7.pack(septets, 7 * skip)
    assert gsm7.unpack(packed, skip + len(septets), skip) == septets


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(gsm7.BASIC.replace("\x1b", "") + EXTENSION_CHARS)))
def test_encode_decode_round_trip(text: str) -> None:
    """Any GSM-7 text survives encode then decode, and its cost is its septet count."""
    septets = gsm7.encode(text)
    assert gsm7.decode(septets) == text
    assert gsm7.septet_length(text) == len(septets)


@settings(max_examples=200)
@given(st.binary(max_size=40))
def test_decode_never_fails(raw: bytes) -> None:
    """Decoding any septet values yields text (one char per non-escape septet at most)."""
    assert len(gsm7.decode(raw)) <= len(raw)
