"""Bad input gets a specific error: which field, what was wrong, what is allowed."""

from __future__ import annotations

import codecs
import json

import pytest

import dealcoach
from dealcoach import DealInputError
from dealcoach.engine.loading import MAX_BYTES, decode, read_deal

from helpers import ROOT


def problems(data) -> list[tuple[str, str]]:
    with pytest.raises(DealInputError) as caught:
        dealcoach.review(data)
    return [(p.path, p.message) for p in caught.value.problems]


def test_unknown_field_names_the_allowed_fields(deal: dict) -> None:
    deal["contacts"] = [{"id": "a", "name": "甲", "powr": "core"}]
    [(path, message)] = problems(deal)
    assert path == "contacts[0].powr"
    assert "unknown field" in message and "power" in message


def test_unknown_vocabulary_value_lists_both_spellings(deal: dict) -> None:
    deal["contacts"] = [{"id": "a", "name": "甲", "power": "核心"}]
    [(path, message)] = problems(deal)
    assert path == "contacts[0].power"
    assert "'核心' is not a power circle" in message
    assert "core (核心圈)" in message and "watcher" in message


@pytest.mark.parametrize("spelling", ["教练", "coach", "Coach", " COACH "])
def test_vocabulary_accepts_english_and_chinese(deal: dict, spelling: str) -> None:
    deal["contacts"] = [{"id": "a", "name": "甲", "supporter": spelling, "roles": ["Decision Maker", "技术把关者"]}]
    checked = dealcoach.load_deal(deal)
    assert [k.value for k in checked.contacts[0].supporter] == ["coach"]
    assert [r.value for r in checked.contacts[0].roles] == ["decision_maker", "technical_gatekeeper"]


def test_impossible_date(deal: dict) -> None:
    deal["as_of"] = "2026-02-30"
    [(path, message)] = problems(deal)
    assert path == "as_of" and "2026-02-30" in message


def test_wrong_type_names_the_value(deal: dict) -> None:
    deal["amount"] = "three million"
    [(path, message)] = problems(deal)
    assert path == "amount" and "'three million'" in message


@pytest.mark.parametrize("amount", [-1, float("nan"), float("inf"), 1e16])
def test_absurd_amounts(deal: dict, amount: float) -> None:
    deal["amount"] = amount
    [(path, _)] = problems(deal)
    assert path == "amount"


def test_missing_required_fields_are_all_listed() -> None:
    found = problems({"id": "x", "name": "n"})
    assert {path for path, _ in found} >= {"customer", "amount", "stage", "stage_entered", "buying_step", "as_of"}
    assert all(message == "required field is missing" for _, message in found)


def test_duplicate_contact_ids(deal: dict) -> None:
    deal["contacts"] = [{"id": "a", "name": "甲"}, {"id": "a", "name": "乙"}]
    assert problems(deal) == [("contacts[1].id", "'a' is already the id of contacts[0]")]


def test_committee_names_unknown_contact(deal: dict) -> None:
    deal["contacts"] = [{"id": "a", "name": "甲"}]
    deal["decision"] = {"mode": "collective", "rule": "majority", "committee_size": 3, "committee": ["a", "zz"]}
    assert problems(deal) == [("decision.committee[1]", "'zz' is not a contact id; known: a")]


def test_collective_fields_need_collective_mode(deal: dict) -> None:
    deal["decision"] = {"mode": "one_person", "rule": "majority"}
    [(path, message)] = problems(deal)
    assert path == "decision" and "mode: collective" in message


@pytest.mark.parametrize(
    "field,value,expected",
    [
        ("stage", "closing", "'closing' is not a stage of standard-6; allowed: development (开发阶段)"),
        ("buying_step", "tendering", "'tendering' is not a buying step of standard-6"),
        ("stage_model", "nine-step", "unknown stage model 'nine-step'; allowed: "),
        ("milestones", ["need_confirmed", "golf_played"], "'golf_played' is not a milestone of standard-6"),
    ],
)
def test_stage_model_references(deal: dict, field: str, value, expected: str) -> None:
    deal[field] = value
    found = problems(deal)
    assert any(expected in message for _, message in found), found


def test_dates_out_of_order(deal: dict) -> None:
    deal["stage_entered"] = "2026-12-01"
    deal["contacts"] = [{"id": "a", "name": "甲", "last_contact": "2027-01-01"}]
    assert problems(deal) == [
        ("stage_entered", "2026-12-01 is after as_of 2026-11-20"),
        ("contacts[0].last_contact", "2027-01-01 is after as_of 2026-11-20"),
    ]


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "content,expected",
    [
        (b"", "the file is empty"),
        (b"   \n", "the file is empty"),
        (b"id: [unclosed\n", "malformed YAML at line"),
        (b'{"id": "x",}', "malformed JSON at line 1"),
        (b'{"id": NaN}', "NaN is not a number a deal can hold"),
        (b"- a\n- b\n", "expected a mapping of deal fields, got list"),
        (b"id: a\nid: b\n", "key 'id' appears twice"),
        ("id: 商机\n".encode("gbk"), "not valid UTF-8 text at byte"),
    ],
)
def test_unreadable_files(tmp_path, content: bytes, expected: str) -> None:
    path = write(tmp_path, "deal.yaml", content)
    with pytest.raises(DealInputError) as caught:
        read_deal(path, dealcoach.load_playbook())
    assert expected in str(caught.value)


def test_oversized_file(tmp_path) -> None:
    path = write(tmp_path, "deal.yaml", b"#" * (MAX_BYTES + 1))
    with pytest.raises(DealInputError, match="the limit is"):
        read_deal(path, dealcoach.load_playbook())


def test_loader_strips_a_utf8_bom() -> None:
    """README "Deal file": files may be UTF-8 with or without a BOM; the BOM is not part of the text."""
    assert decode(codecs.BOM_UTF8 + "id: 商机\n".encode(), "deal.yaml") == "id: 商机\n"


def test_utf8_bom_yaml_file_reads_like_the_same_file_without_bom(tmp_path) -> None:
    """tests/bad_inputs/bom-utf8.yaml (cases.yaml: exit 0) is read exactly as its bytes after the BOM are."""
    bom_file = ROOT / "tests" / "bad_inputs" / "bom-utf8.yaml"
    raw = bom_file.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8), "the fixture must carry a UTF-8 BOM"
    plain = write(tmp_path, "plain.yaml", raw[len(codecs.BOM_UTF8):])
    playbook = dealcoach.load_playbook()
    assert read_deal(bom_file, playbook) == read_deal(plain, playbook)


def test_utf8_bom_json_file_is_read_as_json(tmp_path, deal: dict) -> None:
    """A BOM in front of JSON must not hide the `{` that routes the text to the JSON parser."""
    playbook = dealcoach.load_playbook()
    path = write(tmp_path, "deal.json", codecs.BOM_UTF8 + json.dumps(deal, ensure_ascii=False).encode())
    assert read_deal(path, playbook) == dealcoach.load_deal(deal)
    nan = write(tmp_path, "nan.json", codecs.BOM_UTF8 + b'{"id": NaN}')
    with pytest.raises(DealInputError, match="NaN is not a number a deal can hold"):  # the JSON parser's error, not YAML's
        read_deal(nan, playbook)


def test_utf16_file_with_bom_is_read(tmp_path, deal: dict) -> None:
    path = write(tmp_path, "deal.json", json.dumps(deal, ensure_ascii=False).encode("utf-16"))
    assert read_deal(path, dealcoach.load_playbook()) == dealcoach.load_deal(deal)


def test_yaml_dates_and_booleans(tmp_path) -> None:
    from helpers import CASES_DIR

    text = (CASES_DIR / "_base.yaml").read_text(encoding="utf-8")
    text += "contacts:\n  - {id: a, name: 甲, last_contact: 2026-11-02, active: no}\n"
    text = text.replace("contacts: []\n", "")
    deal = read_deal(write(tmp_path, "d.yaml", text.encode()), dealcoach.load_playbook())
    assert str(deal.contacts[0].last_contact) == "2026-11-02" and deal.contacts[0].active is False
