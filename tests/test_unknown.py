"""Unknown is not "no": a field absent from the deal file is unknown, an explicit value is that value.

For each field that can be unknown, one deal leaves it out and one states the
negative explicitly; the findings (or their params) must differ, and the
unknown one must ask rather than assert. Old files stay valid: an explicit
`false` / `none` / `unaware` still means exactly that.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import dealcoach
from dealcoach.cli import cli
from dealcoach.engine.facts import POWER_RANK, build_facts, locate
from dealcoach.engine.api import load_deal
from dealcoach.engine.rendering import Renderer
from dealcoach.engine.vocabulary import BudgetEvidence, PowerCircle

from helpers import base_deal


def _deal(**top) -> dict:
    deal = base_deal()
    deal.update(top)
    return deal


def _found(deal: dict, code: str) -> list:
    return [f for f in dealcoach.review(deal).findings if f.code == code]


def _one(deal: dict, code: str):
    found = _found(deal, code)
    assert len(found) == 1, (code, [f.code for f in dealcoach.review(deal).findings])
    return found[0]


# contacts[].power --------------------------------------------------------------

def _insider(**extra) -> dict:
    return {"id": "a", "name": "小李", "supporter": "内线", "shares_information": True, **extra}


def test_power_absent_asks_whether_the_insider_sees_the_project() -> None:
    unknown = _one(_deal(contacts=[_insider()]), "DC404")
    assert unknown.params["power_unknown"] is True and unknown.params["unaware"] is False
    unaware = _one(_deal(contacts=[_insider(power="unaware")]), "DC404")
    assert unaware.params["power_unknown"] is False and unaware.params["unaware"] is True


def test_power_absent_does_not_say_we_have_no_insider() -> None:
    """A marked insider whose power is unknown is DC404's question; explicitly unaware, still no 'no insider' twice."""
    assert not _found(_deal(contacts=[_insider()]), "DC401")
    assert _found(_deal(contacts=[{"id": "a", "name": "小李", "power": "watcher"}]), "DC401")


def test_power_absent_asks_about_a_sponsors_weight() -> None:
    sponsor = {"id": "a", "name": "王处", "supporter": "赞助者", "stance": "支持"}
    unknown = _one(_deal(contacts=[sponsor]), "DC405")
    weak = _one(_deal(contacts=[{**sponsor, "power": "旁观者"}]), "DC405")
    assert (unknown.params["power_unknown"], unknown.params["powerless"]) == (True, False)
    assert (weak.params["power_unknown"], weak.params["powerless"]) == (False, True)


def test_unknown_power_ranks_below_every_known_circle() -> None:
    assert POWER_RANK[PowerCircle.UNKNOWN] < min(rank for circle, rank in POWER_RANK.items() if circle != PowerCircle.UNKNOWN)
    deal = load_deal(_deal(contacts=[{"id": "a", "name": "甲"}, {"id": "b", "name": "乙", "power": "不明所以"}]),
                     dealcoach.load_playbook())
    assert deal.contacts[0].power == PowerCircle.UNKNOWN and deal.contacts[1].power == PowerCircle.UNAWARE
    assert load_deal(_deal(contacts=[{"id": "a", "name": "甲", "power": "不清楚"}]), dealcoach.load_playbook()).contacts[0].power == "unknown"


# budget.evidence -----------------------------------------------------------------

def test_budget_evidence_absent_asks_what_the_figure_rests_on() -> None:
    unknown = _one(_deal(budget={"amount": 800000}), "DC505")
    none = _one(_deal(budget={"amount": 800000, "evidence": "无"}), "DC505")
    assert unknown.params == {"evidence": "unknown", "has_amount": True, "unknown": True}
    assert none.params == {"evidence": "none", "has_amount": True, "unknown": False}
    renderer = Renderer(dealcoach.load_playbook())
    report = dealcoach.review(_deal(budget={"amount": 800000}))
    finding = next(f for f in report.findings if f.code == "DC505")
    assert "？" in renderer.finding_text(finding, report, "zh").title


# objective.confirmed_by_customer ------------------------------------------------

def test_confirmation_absent_asks_instead_of_asserting() -> None:
    assert _one(_deal(objective={"what": "MES"}), "DC502").params == {"unknown": True}
    assert _one(_deal(objective={"what": "MES", "confirmed_by_customer": False}), "DC502").params == {"unknown": False}
    assert not _found(_deal(objective={"what": "MES", "confirmed_by_customer": True}), "DC502")


# customer.state_owned ---------------------------------------------------------------

def test_state_owned_absent_asks_on_a_large_one_person_deal() -> None:
    large = {"amount": 5000000, "decision": {"mode": "one_person"}}
    unknown = _one(_deal(customer={"name": "某集团"}, **large), "DC110")
    assert unknown.params["unknown"] is True
    assert not _found(_deal(customer={"name": "某集团", "state_owned": False}, **large), "DC110")
    assert _one(_deal(customer={"name": "某集团", "state_owned": True}, **large), "DC110").params["unknown"] is False


def test_state_owned_absent_keeps_dc109_silent() -> None:
    budget = {"plan_approved": True, "funds_in_place": False}
    assert not _found(_deal(customer={"name": "某集团"}, budget=budget), "DC109")
    assert not _found(_deal(customer={"name": "某集团", "state_owned": False}, budget=budget), "DC109")
    assert _found(_deal(customer={"name": "某集团", "state_owned": True}, budget=budget), "DC109")


# contacts[].last_contact / met ---------------------------------------------------------

def test_last_contact_absent_asks_whether_we_met() -> None:
    person = {"id": "a", "name": "陈总", "roles": ["决策人"]}
    unknown = _one(_deal(contacts=[person]), "DC303")
    never = _one(_deal(contacts=[{**person, "met": False}]), "DC303")
    assert (unknown.params["unknown"], unknown.params["never"]) == (True, False)
    assert (never.params["unknown"], never.params["never"]) == (False, True)


def test_met_false_with_a_date_is_an_input_error() -> None:
    with pytest.raises(dealcoach.DealInputError):
        dealcoach.review(_deal(contacts=[{"id": "a", "name": "陈总", "met": False, "last_contact": "2026-11-01"}]))


# coach conditions -------------------------------------------------------------------

def test_coach_condition_absent_is_unchecked_not_failed() -> None:
    coach = {"id": "a", "name": "老周", "supporter": "教练"}
    unknown = _one(_deal(contacts=[{**coach, "coach_conditions": {"trusted_by_organisation": True, "wants_us_to_win": True}}]), "DC407")
    failed = _one(_deal(contacts=[{**coach, "coach_conditions": {
        "trusts_our_capability": False, "trusted_by_organisation": True, "wants_us_to_win": True}}]), "DC407")
    assert (unknown.params["failed"], unknown.params["unknown"]) == ([], ["trusts_our_capability"])
    assert (failed.params["failed"], failed.params["unknown"]) == (["trusts_our_capability"], [])


# facts and schema ---------------------------------------------------------------------

def test_facts_carry_unknown_as_a_string_never_as_false() -> None:
    book = dealcoach.load_playbook()
    deal = load_deal(_deal(contacts=[{"id": "a", "name": "甲"}]), book)
    facts = build_facts(deal, locate(deal, book.stage_models[deal.stage_model])).by_id
    assert facts["deal"]["state_owned"] == "unknown"
    assert facts["objective"]["confirmed_by_customer"] == "unknown"
    assert facts["budget"]["evidence"] == "unknown"
    contact = facts["contact:a"]
    assert (contact["power"], contact["power_rank"], contact["met"]) == ("unknown", -1, "unknown")
    assert contact["trusts_our_capability"] == "unknown"


def test_old_explicit_values_keep_their_meaning() -> None:
    book = dealcoach.load_playbook()
    deal = load_deal(_deal(customer={"name": "X", "state_owned": False}, objective={"confirmed_by_customer": False},
                           budget={"evidence": "none"}, contacts=[{"id": "a", "name": "甲", "power": "unaware"}]), book)
    facts = build_facts(deal, locate(deal, book.stage_models[deal.stage_model])).by_id
    assert facts["deal"]["state_owned"] == "no" and facts["objective"]["confirmed_by_customer"] == "no"
    assert facts["budget"]["evidence"] == "none" and facts["contact:a"]["power_rank"] == 0


def test_schema_shows_the_unknown_values() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    text = json.dumps(schema, ensure_ascii=False)
    budget = schema["$defs"]["Budget"]["properties"]["evidence"]
    power = schema["$defs"]["Contact"]["properties"]["power"]
    assert BudgetEvidence.UNKNOWN.value in json.dumps(budget) and "未知" in json.dumps(budget, ensure_ascii=False)
    assert PowerCircle.UNKNOWN.value in power["enum"] and "不清楚" in power["enum"]
    assert "不清楚" in text and "never met" in text
    assert schema["$defs"]["Contact"]["properties"]["met"]
