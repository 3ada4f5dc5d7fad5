"""What a rep reads holds no record field names, record paths, snake_case identifiers, rule codes or chains.

Scans every default and full review (text and markdown) and gate of every bundled example, every golden
text file, and the full review of every rule case, in both languages. Evidence and reasoning belong in
JSON and `--explain`, which are not scanned.
"""

from __future__ import annotations

import re
from functools import cache

import pytest

import dealcoach
from dealcoach.engine.model import Deal

from helpers import EXAMPLES, HERE, case_deal, rule_cases

IDENTIFIER = re.compile(
    r"\b[a-z]+_[a-z_]+\b"  # snake_case
    r"|\b[a-z_]{2,}\.[a-z_]{2,}\b"  # dotted record paths
    r"|\[\d+\]"  # indexed paths
    r"|\bDC\d{3}\b|\bM\d+\.\d+\b"  # rule codes and section tags
    r"|依据字段|推理链|Evidence:|Reasoning:"
)
ASCII_WORD = re.compile(r"(?<![A-Za-z])[a-z]+(?![A-Za-z])")


@cache
def field_names() -> frozenset[str]:
    """Every property name of the deal schema (stance, supporter, milestones, ...) and the JSON literals."""
    names: set[str] = {"true", "false", "null", "none"}

    def walk(node) -> None:
        if isinstance(node, dict):
            names.update(node.get("properties", {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(Deal.model_json_schema())
    return frozenset(names)


def problems(text: str, lang: str) -> list[str]:
    """Identifiers in `text`; in Chinese text also any schema field name written as an English word."""
    body = "\n".join(line for line in text.splitlines() if not re.match(r"^(规则集版本|Rule set version) ", line))
    found = [match.group(0) for match in IDENTIFIER.finditer(body)]
    if lang == "zh":
        found += [word for word in ASCII_WORD.findall(body) if word in field_names()]
    return found


def renderings(deal) -> list[tuple[str, str]]:
    report = dealcoach.review(deal)
    out = []
    for lang in ("zh", "en"):
        for fmt in ("text", "markdown"):
            out.append((lang, dealcoach.render(report, lang=lang, fmt=fmt)))
            out.append((lang, dealcoach.render(report, lang=lang, fmt=fmt, show_all=True)))
    return out


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_reviews_and_gates_read_clean(path) -> None:
    found = {}
    for number, (lang, text) in enumerate(renderings(str(path))):
        if problems(text, lang):
            found[f"review-{number}-{lang}"] = problems(text, lang)
    report = dealcoach.review(str(path))
    model = dealcoach.load_playbook().stage_models[report.stage_model]
    target = model.stages[min(report.stage.index + 1, len(model.stages) - 1)].id
    for lang in ("zh", "en"):
        text = dealcoach.render(dealcoach.gate(str(path), to=target), lang=lang)
        if problems(text, lang):
            found[f"gate-{lang}"] = problems(text, lang)
    assert not found, found


@pytest.mark.parametrize("golden", sorted((HERE / "golden").glob("*.txt")), ids=lambda p: p.name)
def test_golden_texts_read_clean(golden) -> None:
    lang = golden.stem.rsplit(".", 1)[-1]
    assert not problems(golden.read_text(encoding="utf-8"), lang)


CASES = [(code, kind, case) for code, cases in rule_cases().items() for kind in ("fires", "silent") for case in cases[kind]]


@pytest.mark.parametrize("code,kind,case", CASES, ids=[f"{c}-{k}-{case['name']}" for c, k, case in CASES])
def test_rule_case_reviews_read_clean(code: str, kind: str, case: dict) -> None:
    deal = case_deal(case)
    report = dealcoach.gate(deal, case["gate"]).report if "gate" in case else dealcoach.review(deal)
    for lang in ("zh", "en"):
        text = dealcoach.render(report, lang=lang, show_all=True)
        assert not problems(text, lang), (lang, problems(text, lang))


def test_the_scanner_catches_what_it_is_for() -> None:
    assert "objective.shaped_by" in problems("记录中 objective.shaped_by 改为「我方」", "zh")
    assert problems("把 stance 改成支持", "zh") == ["stance"]
    assert problems("1. [DC304 · M3.1] 反对", "zh") == ["DC304", "M3.1"]
    assert problems("see contacts[1].roles and stage_entered", "en") == ["[1]", "stage_entered"]
    assert problems("the budget is evidenced", "en") == []
