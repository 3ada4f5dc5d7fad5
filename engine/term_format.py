"""Term texts with named fields, such as "{name} ({title})": checked when a playbook loads, filled when rendering.

A field is a plain name. Attribute or index access (`{x.__class__}`, `{x[0]}`), positional fields (`{}`,
`{0}`), conversions (`{x!r}`) and format specs (`{x:>99999}`) are refused: a term is wording, and the code
fills its fields with text it has already formatted. `{{` and `}}` stand for literal braces.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import lru_cache

from .errors import PlaybookError

_FORMATTER = string.Formatter()


class TermFormatError(ValueError):
    """A term text that is not a valid format string of plain named fields."""


@lru_cache(maxsize=4096)
def term_fields(text: str) -> frozenset[str]:
    """The names of the fields in a term text; TermFormatError when it is not plain names in braces."""
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as error:
        raise TermFormatError(f"{error}; write {{{{ or }}}} for a literal brace") from None
    fields = set()
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier():
            raise TermFormatError(f"{{{field}}} is not a plain field name (a letter or _, then letters, digits or _)")
        if conversion is not None:
            raise TermFormatError(f"{{{field}!{conversion}}}: conversions are not allowed, write {{{field}}}")
        if spec:
            raise TermFormatError(f"{{{field}:{spec}}}: format specs are not allowed, write {{{field}}}")
        fields.add(field)
    return frozenset(fields)


def fill_term(key: str, text: str, values: Mapping[str, object]) -> str:
    """The term `key` with its fields filled from `values`; PlaybookError naming the term when it cannot be."""
    try:
        fields = term_fields(text)
    except TermFormatError as error:
        raise PlaybookError(f"term {key!r}: {error}") from None
    missing = sorted(fields - values.keys())
    if missing:
        given = ", ".join(f"{{{name}}}" for name in sorted(values)) or "none"
        raise PlaybookError(f"term {key!r} uses {{{missing[0]}}}, which is not given here; its fields: {given}")
    return text.format_map({name: values[name] for name in fields})


# Fields the code gives a term beside those its shipped wording uses (a company's wording may use them too).
GIVEN_BESIDES_SHIPPED: dict[str, frozenset[str]] = {
    "card.rule": frozenset({"count"}),
    "duration.days": frozenset({"months"}),
    "duration.months": frozenset({"days"}),
}


def allowed_fields(key: str, shipped: Mapping[str, Mapping[str, str]]) -> frozenset[str] | None:
    """The fields term `key` may use: those of its shipped wording in any language and those the code gives
    besides; None for a key only a company playbook has (its own templates fill it, under the sandbox)."""
    texts = [table[key] for table in shipped.values() if key in table]
    if not texts:
        return None
    return frozenset().union(*(term_fields(text) for text in texts), GIVEN_BESIDES_SHIPPED.get(key, frozenset()))
