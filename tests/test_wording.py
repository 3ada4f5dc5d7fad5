"""Language mechanics of rendered text (engine.wording): plural forms as CLDR defines them."""

from __future__ import annotations

import pytest
from babel import Locale

from dealcoach.engine.playbook import LANGUAGES
from dealcoach.engine.wording import PLURAL_RULES, plural_category


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_plural_rules_kept_for_each_language_are_babels(lang: str) -> None:
    """The rules are written out so that a command need not load Babel's locale data; they must stay CLDR's."""
    assert PLURAL_RULES[lang] == Locale.parse(lang).plural_form.rules
    babel = Locale.parse(lang).plural_form
    for count in (0, 1, 2, 3, 11, 21, 100, 1.5, 0.5, 1.0, 2.0, 0.0, -1, 1e6):
        assert plural_category(lang, count) == babel(count), (lang, count)


def test_english_says_one_only_of_one_and_chinese_never() -> None:
    assert [plural_category("en", n) for n in (0, 1, 2)] == ["other", "one", "other"]
    assert {plural_category("zh", n) for n in (0, 1, 2)} == {"other"}
