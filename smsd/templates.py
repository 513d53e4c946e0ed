"""Message templates: placeholders checked when a text is loaded, filled when it is sent.

A template names values as ``{name}``. `check` rejects, with one line naming the field, a
placeholder that is not allowed there (``{usercode}``) and one left open (``{user_code``), so
a typo is caught when the operator saves the text, never shown to a customer. Other braces
(``{:)``, a lone ``}``) are plain text.

Gateway templates (the `Rules` texts) may mark optional parts with square brackets:
``[Help: {contact}.]`` is left out, brackets and all, when a placeholder in it is empty; a
missing contact thus disappears cleanly instead of reading "Help: .". Business replies are
filled without this (their brackets are their own).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from smsd.errors import SmsdError

__all__ = [
    "GATEWAY_FIELDS",
    "REPLY_FIELDS",
    "TEXT_FIELDS",
    "TemplateError",
    "check",
    "check_gateway",
    "fill",
    "placeholders",
]

#: Placeholders a business's code reply may use (`{user_code}` is filled by the store).
REPLY_FIELDS = frozenset({"user_code", "business", "code", "gateway", "contact"})
#: Placeholders every gateway template may use.
GATEWAY_FIELDS = frozenset({"gateway", "contact", "frequency"})
#: Each gateway text of `smsd.settings.Rules` -> the placeholders it may use beyond
#: {gateway}, {contact}, {frequency}.
TEXT_FIELDS: dict[str, frozenset[str]] = {
    "help_text": frozenset(),
    "user_code_text": frozenset({"user_code"}),
    "optin_text": frozenset({"business", "code"}),
    "first_optin_text": frozenset({"business", "code", "user_code"}),
    "confirm_request_text": frozenset({"business", "code"}),
    "unknown_text": frozenset(),
    "stop_all_text": frozenset(),
    "stop_one_text": frozenset({"business", "code"}),
    "start_text": frozenset(),
    "vote_text": frozenset({"business", "code", "option"}),
    "vote_invalid_text": frozenset({"business", "code", "options"}),
    "poll_closed_text": frozenset({"business", "code"}),
}

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_UNCLOSED = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_}])")
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")


class TemplateError(SmsdError, ValueError):
    """A template with an unknown or unclosed placeholder, or unbalanced optional brackets."""


def placeholders(text: str) -> set[str]:
    """The placeholder names used in `text`."""
    return set(_PLACEHOLDER.findall(text))


def check(field: str, text: str, allowed: Collection[str]) -> str:
    """`text` unchanged if every placeholder is allowed and closed; else `TemplateError`."""
    if not text.strip():
        raise TemplateError(f"{field}: must not be empty")
    unclosed = _UNCLOSED.search(text)
    if unclosed is not None:
        raise TemplateError(f"{field}: unclosed placeholder {{{unclosed.group(1)}")
    unknown = sorted(placeholders(text) - set(allowed))
    if unknown:
        names = ", ".join("{" + n + "}" for n in sorted(allowed))
        raise TemplateError(f"{field}: unknown placeholder {{{unknown[0]}}} (allowed: {names})")
    return text


def check_gateway(field: str, text: str, extra: Collection[str] = ()) -> str:
    """`check` for a gateway template, which may also have [optional] parts (not nested)."""
    check(field, text, GATEWAY_FIELDS | set(extra))
    if _OPTIONAL.sub("", text).count("[") or _OPTIONAL.sub("", text).count("]"):
        raise TemplateError(f"{field}: unbalanced or nested [optional] brackets")
    return text


def _replace(text: str, values: Mapping[str, str]) -> str:
    # One pass, so a value that contains "{code}" is never filled in again.
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def fill(text: str, values: Mapping[str, str], *, optional: bool = False) -> str:
    """`text` with the given placeholders filled; others (e.g. `{user_code}`) stay.

    With `optional=True`, each ``[...]`` part is kept (without its brackets) only when every
    placeholder in it has a non-empty value; spaces left doubled are closed up.
    """
    if optional:

        def part(match: re.Match[str]) -> str:
            inner = match.group(1)
            names = placeholders(inner)
            return inner if all(values.get(n) for n in names if n != "user_code") else ""

        text = re.sub(r" {2,}", " ", _OPTIONAL.sub(part, text)).strip()
    return _replace(text, values)
