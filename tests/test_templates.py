"""Templates: placeholders checked at load with one-line errors, optional parts, one-pass fill."""

from __future__ import annotations

import pytest

from smsd.settings import TEXT_FIELDS, Rules
from smsd.templates import REPLY_FIELDS, TemplateError, check, check_gateway, fill


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Show {usercode} at the till", "reply: unknown placeholder {usercode}"),
        ("Show {user_code at the till", "reply: unclosed placeholder {user_code"),
        ("   ", "reply: must not be empty"),
    ],
)
def test_bad_reply_is_refused_naming_the_field(text: str, message: str) -> None:
    """A typo'd or unclosed placeholder is one line naming the field and the placeholder."""
    with pytest.raises(TemplateError) as caught:
        check("reply", text, REPLY_FIELDS)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


@pytest.mark.parametrize("text", ["Show {user_code}!", "Smile {:) and }", "{business}: {code}"])
def test_good_reply_passes_unchanged(text: str) -> None:
    """Known placeholders and braces that are not placeholders are accepted as they are."""
    assert check("reply", text, REPLY_FIELDS) == text


def test_optional_part_vanishes_when_empty() -> None:
    """[Help: {contact}.] disappears, brackets and all, when there is no contact."""
    template = "{gateway}: hi.[ Help: {contact}.] Bye."
    assert fill(template, {"gateway": "G", "contact": ""}, optional=True) == "G: hi. Bye."
    assert fill(template, {"gateway": "G", "contact": "c@x"}, optional=True) == (
        "G: hi. Help: c@x. Bye."
    )


def test_unbalanced_optional_brackets_are_refused() -> None:
    """A gateway text with an unclosed [ is refused at load."""
    with pytest.raises(TemplateError, match="help_text: unbalanced"):
        check_gateway("help_text", "{gateway}: [Help: {contact}.")


def test_fill_is_one_pass() -> None:
    """A value containing a placeholder is not filled again."""
    assert fill("{business} {code}", {"business": "{code}", "code": "X"}) == "{code} X"


def test_default_texts_pass_their_own_check() -> None:
    """Every default gateway text uses only the placeholders its field allows."""
    defaults = Rules()
    for field, extra in TEXT_FIELDS.items():
        check_gateway(field, getattr(defaults, field), extra)
