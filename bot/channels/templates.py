"""A post template's placeholders and their check: what loading channels.yaml needs of
templates, without the fitting and counting of `compose` (and the `regex` module it needs)."""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator

from bot.content.social import PLACEHOLDERS

#: Every placeholder a template may use (defined beside the front matter that fills them, so
#: an article's own `social.text` is checked against the same list)
FIELD_NAMES: tuple[str, ...] = PLACEHOLDERS


def template_placeholders(template: str) -> list[str]:
    """The placeholder names a template uses, in order; ValueError if it is malformed.

    Only plain names are allowed: no attribute/index access, conversions or format specs.
    """
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"malformed template: {e} (write {{{{ and }}}} for literal braces)") from e
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise ValueError(f"invalid placeholder {{{shown}}}: only plain {{name}} is allowed")
        names.append(name)
    return names


def check_template(template: str, known: Sequence[str] = FIELD_NAMES) -> None:
    """Raise ValueError naming the first placeholder that is not a known field."""
    for name in template_placeholders(template):
        if name not in known:
            raise ValueError(
                f"unknown placeholder {{{name}}} in template; known: "
                + ", ".join("{" + k + "}" for k in known)
            )


def checked_template(template: str) -> str:
    """`template` itself once `check_template` finds nothing wrong with it (a validator)."""
    check_template(template)
    return template


#: An option that is a template (an image's alt text, an e-mail's subject): its placeholders
#: are checked when channels.yaml loads, not when a post is composed
TemplateStr = Annotated[str, AfterValidator(checked_template)]
