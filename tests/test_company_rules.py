"""Company rules in a playbook: the condition language decides like the engine's own rules, and every
mistake in a rule file is exit 4 naming the file, the line and what is wrong."""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner

from dealcoach.cli import cli
from dealcoach.engine.coach import Coach
from dealcoach.engine.errors import PlaybookError
from dealcoach.engine.playbook import load_playbook
from dealcoach.engine.whatif import merge_patch

from company import rule, write_playbook
from helpers import ROOT, base_deal

CONTACTS = [
    {"id": "wang", "name": "王总", "roles": ["decision_maker"], "power": "core", "stance": "supports", "last_contact": "2026-11-10"},
    {"id": "li", "name": "李工", "roles": ["technical_gatekeeper"], "power": "political", "stance": "opposes",
     "supporter": ["coach"], "last_contact": "2026-09-01"},
    {"id": "zhao", "name": "赵经理", "roles": ["purchaser"], "stance": "neutral"},
]


def coach_for(tmp_path, *rules: dict, changes: dict | None = None) -> Coach:
    settings = {"company_rules": list(rules)} if rules else {}
    if changes:
        settings["rules"] = changes
    return Coach(load_playbook(write_playbook(tmp_path / "company", settings)))


def deal_with(**changes) -> dict:
    deal = base_deal()
    deal["contacts"] = copy.deepcopy(CONTACTS)
    return merge_patch(deal, changes)


def fired(coach: Coach, deal: dict, code: str) -> list[str | None]:
    """Subjects of `code`'s findings, shown or set aside (None: about the deal)."""
    report = coach.review(deal)
    return [f.subject for f in report.findings if f.code == code] + [s.subject for s in report.suppressed if s.code == code]


# -- the language decides ---------------------------------------------------------

DEAL_CASES = [
    # (condition, changes that make it hold, changes that make it fail)
    ({"amount": {"at_least": 5000000}}, {"amount": 6000000}, {"amount": 4999999}),
    ({"amount": {"more_than": 100000, "less_than": 200000}}, {"amount": 150000}, {"amount": 100000}),
    ({"amount": {"in": [100000, 200000]}}, {"amount": 200000}, {"amount": 300000}),
    ({"customer.state_owned": True}, {"customer": {"state_owned": True}}, {"customer": {"state_owned": False}}),
    ({"customer.state_owned": "unknown"}, {}, {"customer": {"state_owned": False}}),
    ({"not": {"customer.state_owned": True}}, {}, {"customer": {"state_owned": True}}),
    ({"customer.credit": "poor"}, {"customer": {"credit": "poor"}}, {"customer": {"credit": "good"}}),
    ({"solution": "定制"}, {"solution": "customised"}, {"solution": "standard"}),
    ({"stage": {"in": ["development", "sales_entry"]}}, {}, {"stage": "proposal", "buying_step": "set_specifications"}),
    ({"buying_step": "need_and_approval"}, {}, {"buying_step": "supplier_screening", "stage": "sales_entry"}),
    ({"days_to_close": {"at_most": 30}}, {"expected_close": "2026-12-10"}, {}),  # no close date: not "0 days"
    ({"not": {"days_to_close": {"at_most": 30}}}, {}, {"expected_close": "2026-12-10"}),
    ({"expected_close_known": False}, {}, {"expected_close": "2027-03-01"}),
    ({"days_in_stage": {"more_than": 10}}, {}, {"stage_entered": "2026-11-15"}),
    ({"competitors": 0}, {}, {"competitors": [{"name": "对手甲"}]}),
    ({"budget.evidence": {"not_in": ["customer_document", "customer_statement"]}}, {"budget": {"evidence": "our_estimate"}},
     {"budget": {"evidence": "customer_document"}}),
    ({"price_pressure.concession_requested": True, "competitors": 0}, {"price_pressure": {"concession_requested": True}},
     {"price_pressure": {"concession_requested": True}, "competitors": [{"name": "对手甲"}]}),
    ({"any": [{"amount": {"at_least": 1000000}}, {"customer.state_owned": True}]}, {"customer": {"state_owned": True}}, {}),
    ({"decision.mode": "collective"}, {"decision": {"mode": "collective"}}, {"decision": {"mode": "one_person"}}),
    ({"count": "contacts", "where": {"power": "core", "stance": "supports"}, "is": 0},
     {"contacts": [{"id": "wang", "stance": "neutral"}]}, {}),
    ({"count": "contacts", "where": {"role": "decision_maker"}, "at_least": 1}, {}, {"contacts": [{"id": "wang", "_delete": True}]}),
    ({"count": "contacts", "where": {"role": "decision_maker"}, "at_least": 1}, {}, {"contacts": [{"id": "wang", "active": False}]}),
    ({"count": "contacts", "where": {"power": {"at_least": "political"}}, "at_least": 2}, {},
     {"contacts": [{"id": "li", "power": "watcher"}]}),
    ({"count": "contacts", "where": {"power": {"at_most": "watcher"}}, "at_least": 1}, {"contacts": [{"id": "zhao", "power": "unaware"}]}, {}),
    ({"count": "contacts", "where": {"supporter": "coach", "days_since_contact": {"more_than": 21}}, "at_least": 1}, {},
     {"contacts": [{"id": "li", "last_contact": "2026-11-19"}]}),
    ({"count": "competitors", "where": {"incumbent": True}, "is": 1}, {"competitors": [{"name": "甲", "incumbent": True}]},
     {"competitors": [{"name": "甲"}]}),
]


@pytest.mark.parametrize(("condition", "holds", "fails"), DEAL_CASES, ids=[str(c[0])[:60] for c in DEAL_CASES])
def test_a_deal_condition_fires_where_it_holds_and_not_where_it_fails(tmp_path, condition, holds, fails) -> None:
    coach = coach_for(tmp_path, rule("QA101", condition))
    assert fired(coach, deal_with(**holds), "QA101") == [None]
    assert fired(coach, deal_with(**fails), "QA101") == []


def test_a_contact_rule_gives_one_finding_per_person_and_skips_people_who_left(tmp_path) -> None:
    coach = coach_for(tmp_path, rule("QA201", {"contact.role": {"in": ["decision_maker", "technical_gatekeeper"]},
                                               "contact.met": {"is_not": "no"}}, subject="contact"))
    assert sorted(fired(coach, deal_with(), "QA201")) == ["li", "wang"]
    assert fired(coach, deal_with(contacts=[{"id": "li", "active": False}]), "QA201") == ["wang"]
    report = coach.review(deal_with(contacts=[{"id": "li", "stance": "neutral"}]))
    card = next(c for c in report.cards if any(f.code == "QA201" for f in c.findings))
    assert {f.subject for f in card.findings if f.code == "QA201"} <= {"li", "wang"}
    text = coach.render(report, lang="zh", show_all=True)
    assert "QA201标题" in text


def test_a_contact_rule_that_tests_active_also_sees_people_who_left(tmp_path) -> None:
    coach = coach_for(tmp_path, rule("QA202", {"contact.active": False}, subject="contact"))
    assert fired(coach, deal_with(contacts=[{"id": "li", "active": False}]), "QA202") == ["li"]


def test_a_contact_rule_gives_its_templates_the_person(tmp_path) -> None:
    directory = write_playbook(tmp_path / "company", {"company_rules": [
        rule("QA203", {"contact.supporter": "coach"}, subject="contact")]})
    (directory / "templates/findings/zh/QA203.j2").write_text(
        "{% block short %}教练{% endblock %}{% block title %}{{ who(name, title) }}：{{ stance }}，{{ days_since_contact }}天，"
        "{{ roles|join('/') }}{% endblock %}{% block why %}因为。{% endblock %}{% block action %}做。{% endblock %}"
        "{% block clears %}好了。{% endblock %}{% block first %}见{{ name }}{% endblock %}", encoding="utf-8")
    coach = Coach(load_playbook(directory))
    findings = json.loads(coach.render(coach.review(deal_with()), lang="zh", fmt="json"))["findings"]
    assert [f["text"]["title"] for f in findings if f["code"] == "QA203"] == ["李工：opposes，80天，technical_gatekeeper"]


def test_a_count_named_with_as_reaches_the_template(tmp_path) -> None:
    directory = write_playbook(tmp_path / "company", {"company_rules": [
        rule("QA204", {"count": "contacts", "where": {"stance": {"is_not": "supports"}}, "at_least": 1, "as": "not_with_us"})]})
    (directory / "templates/findings/en/QA204.j2").write_text(
        "{% block short %}s{% endblock %}{% block title %}{{ not_with_us }} not with us{% endblock %}{% block why %}w{% endblock %}"
        "{% block action %}a{% endblock %}{% block clears %}c{% endblock %}{% block first %}f{% endblock %}", encoding="utf-8")
    coach = Coach(load_playbook(directory))
    assert "2 not with us" in coach.render(coach.review(deal_with()), lang="en", show_all=True)


def test_gate_to_holds_only_in_a_gate_to_that_stage(tmp_path) -> None:
    coach = coach_for(tmp_path, rule("QA301", {"gate.to": "proposal"}, severity="block"))
    deal = deal_with()
    assert fired(coach, deal, "QA301") == []
    assert "QA301" in [f.code for f in coach.gate(deal, "proposal").blocking]
    assert "QA301" not in [f.code for f in coach.gate(deal, "sales_entry").report.findings]
    assert coach.rule("QA301").gate_only


def test_a_rule_scoped_to_stages_is_set_aside_elsewhere_with_the_stage(tmp_path) -> None:
    coach = coach_for(tmp_path, rule("QA302", {"amount": {"at_least": 1}}, stages=["proposal"]))
    report = coach.review(deal_with())
    assert "QA302" not in [f.code for f in report.findings]
    assert [(s.reason, s.detail) for s in report.suppressed if s.code == "QA302"] == [("stage", "development")]
    shown = coach.review(deal_with(stage="proposal", buying_step="set_specifications"))
    assert "QA302" in [f.code for f in shown.findings]


def test_a_company_rule_yields_like_ours(tmp_path) -> None:
    coach = coach_for(tmp_path, rule("QA303", {"amount": {"at_least": 1}}, yields_to=["QA304"]), rule("QA304", {"competitors": 0}))
    report = coach.review(deal_with())
    assert [(s.code, s.reason, s.detail) for s in report.suppressed if s.code == "QA303"] == [("QA303", "yields_to", "QA304")]
    assert "QA303" in [f.code for f in coach.review(deal_with(competitors=[{"name": "甲"}])).findings]


def test_the_rule_set_version_changes_with_the_company_rules(tmp_path) -> None:
    one = coach_for(tmp_path / "a", rule("QA101", {"amount": {"at_least": 1}}))
    two = coach_for(tmp_path / "b", rule("QA101", {"amount": {"at_least": 2}}))
    assert one.review(deal_with()).ruleset_version != two.review(deal_with()).ruleset_version


# -- tuning the shipped rules -------------------------------------------------------


def _warned(deal: dict) -> dict:
    """A deal in proposal whose budget has no evidence (a shipped warning) and nothing blocking."""
    return merge_patch(deal, {"budget": {"evidence": "our_estimate", "amount": 100000}})


def test_a_warning_made_blocking_stops_the_gate(tmp_path) -> None:
    shipped = Coach(load_playbook())
    stricter = coach_for(tmp_path, changes={"DC505": {"severity": "block"}})
    deal = _warned(deal_with())
    assert "DC505" not in [f.code for f in shipped.gate(deal, "sales_entry").blocking]
    gate = stricter.gate(deal, "sales_entry")
    assert "DC505" in [f.code for f in gate.blocking] and not gate.allowed
    assert stricter.rule("DC505").tuned == (("severity", "warn"),)


def test_a_switched_off_rule_never_fires_and_rules_that_yielded_to_it_show(tmp_path) -> None:
    coach = coach_for(tmp_path, changes={"DC505": {"enabled": False}})
    assert "DC505" not in coach.rulebook.findings
    assert fired(coach, _warned(deal_with()), "DC505") == []
    assert "DC505" in coach.switched_off()
    yielding = [r for r in Coach(load_playbook()).rulebook.findings.values() if "DC109" in r.yields_to]
    off = coach_for(tmp_path / "off", changes={"DC109": {"enabled": False}})
    assert yielding and all("DC109" not in off.rulebook.findings[r.code].yields_to for r in yielding)


def test_a_replacing_rule_takes_the_shipped_rules_place_in_what_yields_to_it(tmp_path) -> None:
    coach = coach_for(tmp_path, rule("QA109", {"customer.state_owned": True}, replaces="DC109"))
    assert "DC109" not in coach.rulebook.findings
    yielding = [code for code, r in Coach(load_playbook()).rulebook.findings.items() if "DC109" in r.yields_to]
    assert yielding and all("QA109" in coach.rulebook.findings[code].yields_to for code in yielding)


def test_a_rule_scoped_to_stages_by_the_playbook_shows_only_there(tmp_path) -> None:
    coach = coach_for(tmp_path, changes={"DC505": {"stages": ["proposal"]}})
    report = coach.review(_warned(deal_with()))
    assert [s.reason for s in report.suppressed if s.code == "DC505"] == ["stage"]


def test_rules_lists_company_rules_changes_and_switched_off_ones(tmp_path) -> None:
    directory = tmp_path / "company"
    write_playbook(directory, {"rules": {"DC505": {"severity": "block"}, "DC315": {"enabled": False}},
                               "company_rules": [rule("QA101", {"amount": {"at_least": 5000000}})]})
    runner = CliRunner()
    listing = runner.invoke(cli, ["rules", "--playbook", str(directory)])
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert any(line.startswith("QA101") and line.endswith("company rule") for line in lines)
    assert any(line.startswith("DC505") and "severity changed (shipped: warn)" in line for line in lines)
    assert "Switched off by the playbook: DC315" in listing.output
    assert not any(line.startswith("DC315") for line in lines)
    one = runner.invoke(cli, ["rules", "QA101", "--playbook", str(directory)])
    assert "When: {amount: {at_least: 5000000}}" in one.output  # the condition as written
    unknown = runner.invoke(cli, ["rules", "QA999", "--playbook", str(directory)])
    assert unknown.exit_code == 2 and "'QA999' is not a rule code or symbol" in unknown.output


def test_rules_terms_lists_every_term_with_its_values() -> None:
    result = CliRunner().invoke(cli, ["rules", "--terms"])
    assert result.exit_code == 0
    assert "customer.state_owned" in result.output and "values: unaware, watcher, political, core, unknown" in result.output


# -- every mistake is exit 4, with file, line and the bad part ------------------------

BAD = [
    ({"company_rules": [rule("QA101", {"amout": 5})]}, ["line 9", "unknown term 'amout'", "did you mean 'amount'"]),
    ({"company_rules": [rule("QA101", {"amount": "五百万"})]}, ["line 9", "when.amount", "takes a number, not '五百万'"]),
    ({"company_rules": [rule("QA101", {"amount": {"atleast": 5}})]}, ["line 10", "unknown operator 'atleast'", "did you mean 'at_least'"]),
    ({"company_rules": [rule("QA101", {"stage": "bidding_stage"})]}, ["line 9", "is not a stage of the playbook", "did you mean 'bidding'"]),
    ({"company_rules": [rule("QA101", {"customer.state_owned": 1})]}, ["takes true, false or unknown, not 1"]),
    ({"company_rules": [rule("QA101", {"stance": "supports"})]}, ["unknown term 'stance'", "need `subject: contact`"]),
    ({"company_rules": [rule("QA101", {"contact.power": {"at_least": "boss"}}, subject="contact")]},
     ["'boss' is not allowed", "allowed: unaware, watcher, political, core, unknown"]),
    ({"company_rules": [rule("QA101", {"customer.credit": {"at_least": "good"}})]}, ["at_least compares numbers"]),
    ({"company_rules": [rule("QA101", [{"amount": 1}])]}, ["a list here is ambiguous"]),
    ({"company_rules": [rule("QA101", {"count": "contacts", "where": {"count": "contacts"}, "is": 0})]}, ["cannot be nested"]),
    ({"company_rules": [rule("QA101", {"count": "deals", "is": 0})]}, ["cannot count 'deals'"]),
    ({"company_rules": [rule("QA101", {"count": "contacts", "where": {"role": "user"}})]}, ["a count takes one comparison: e.g. is: 0"]),
    ({"company_rules": [rule("QA101", {"count": "contacts", "is": 0, "at_least": 1})]}, ["this one has is, at_least"]),
    ({"company_rules": [rule("QA101", {"count": "contacts", "amount": 1})]}, ["put other tests beside it in all:"]),
    ({"company_rules": [rule("QA101", {"amount": 1e-9})]}, ["must be 0 or at least 0.01"]),
    ({"company_rules": [rule("QA101", {"amount": 1e20})]}, ["out of range"]),
    ({"company_rules": [rule("DC999", {"amount": 1})]}, ["line 2", "DC codes are the shipped rules'"]),
    ({"company_rules": [rule("QA101", {"amount": 1}), rule("QA101", {"amount": 2})]}, ["QA101 is used twice"]),
    ({"company_rules": [rule("QA101", {"amount": 1}, yields_to=["QA999"])]}, ["yields to 'QA999': not a rule code"]),
    ({"company_rules": [rule("QA101", {"amount": 1}, symbol="budget-without-evidence")]}, ["already DC505's"]),
    ({"company_rules": [{**rule("QA101", {"amount": 1}), "rationale": None}]}, ["give a section"]),
    ({"company_rules": [rule("QA101", {"amount": 1}, severity="fatal")]}, ["severity"]),
    ({"company_rules": [rule("QA101", {"amount": 1}, colour="red")]}, ["colour", "Extra inputs are not permitted"]),
    ({"company_rules": [rule("QA101", {"amount": 1}, stages=["nowhere"])]}, ["'nowhere' is not a stage of the playbook's stage models"]),
    ({"company_rules": [rule("QA101", {"amount": 1}, replaces="DC000")]}, ["not a shipped rule code"]),
    ({"company_rules": [rule("QA101", {"amount": 1}, yields_to=["QA102"]), rule("QA102", {"amount": 2}, yields_to=["QA101"])]},
     ["yield to each other in a circle"]),
    ({"rules": {"DC000": {"enabled": False}}}, ["line 2", "'DC000' is not a shipped rule's code or symbol"]),
    ({"rules": {"budget-without-evidenc": {"enabled": False}}}, ["did you mean budget-without-evidence?"]),
    ({"rules": {"DC505": {"yields_to": ["DC999"]}}}, ["line 4", "DC505 yields to 'DC999': not a rule code"]),
    ({"rules": {"DC505": {"enabled": False}, "budget-without-evidence": {"severity": "block"}}}, ["already changed above"]),
    ({"rules": {"DC505": {"severity": "fatal"}}}, ["line 3", "the change to DC505", "severity"]),
    ({"rules": ["DC505"]}, ["rules: maps shipped rule codes"]),
    ({"company_rules": {"code": "QA101"}}, ["company_rules: is a list"]),
]


@pytest.mark.parametrize(("settings", "expected"), BAD, ids=[e[0] for _, e in BAD])
def test_a_bad_rule_file_is_exit_4_naming_file_line_and_the_bad_part(tmp_path, settings, expected) -> None:
    directory = write_playbook(tmp_path / "company", settings)
    result = CliRunner().invoke(cli, ["review", "--playbook", str(directory), str(tmp_path / "missing.yaml")])
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    assert str(directory / "playbook.yaml") in result.output
    for part in expected:
        assert part in result.output


def test_a_company_rule_without_its_templates_is_exit_4(tmp_path) -> None:
    directory = write_playbook(tmp_path / "company", {"company_rules": [rule("QA101", {"amount": 1})]}, templates=())
    with pytest.raises(PlaybookError, match="company/templates/findings/zh/QA101.j2 is missing: company rule QA101 needs"):
        Coach(load_playbook(directory))
    write_playbook(directory, {"company_rules": [rule("QA101", {"amount": 1})]})
    (directory / "templates/findings/en/QA101.j2").write_text("{% block title %}t{% endblock %}", encoding="utf-8")
    with pytest.raises(PlaybookError, match="QA101.j2 of company rule QA101 has no block 'why'"):
        Coach(load_playbook(directory))
    asking = write_playbook(tmp_path / "asking", {"company_rules": [rule("QA102", {"amount": 1}, asks=["coach"])]})
    for language in ("zh", "en"):
        path = asking / f"templates/findings/{language}/QA102.j2"
        path.write_text(path.read_text(encoding="utf-8").replace("question", "asked"), encoding="utf-8")
    with pytest.raises(PlaybookError, match="QA102.j2 of company rule QA102 has no block 'question'"):
        Coach(load_playbook(asking))


# -- hostile rule files ----------------------------------------------------------------


def _nested_not(depth: int) -> dict:
    condition: dict = {"amount": 1}
    for _ in range(depth):
        condition = {"not": condition}
    return condition


HOSTILE = [
    ("nested deeper than the YAML limit", {"company_rules": [rule("QA101", _nested_not(30))]}, "nested deeper than 20 levels"),
    ("alternatives explode", {"company_rules": [rule("QA101", {"all": [{"any": [{"amount": i}, {"amount": i + 1}, {"amount": i + 2}]}
                                                                   for i in range(10)]})]}, "more than 64 alternatives"),
    ("a long list of values", {"company_rules": [rule("QA101", {"amount": {"in": list(range(60))}})]}, "60 values; at most 50"),
    ("too many tests", {"company_rules": [rule("QA101", {"all": [{"amount": {"at_least": i}} for i in range(101)]})]},
     "more than 100 tests"),
    ("too many rules", {"company_rules": [rule(f"QA{i:03d}", {"amount": i}) for i in range(201)]}, "201 company rules; at most 200"),
    ("an empty condition", {"company_rules": [rule("QA101", {})]}, "expected a mapping of tests"),
    ("a null condition", {"company_rules": [rule("QA101", None)]}, "when: is required"),
    ("a number for a condition", {"company_rules": [rule("QA101", 7)]}, "not 7"),
    ("an empty all", {"company_rules": [rule("QA101", {"all": []})]}, "all: takes a list"),
    ("a mapping for in", {"company_rules": [rule("QA101", {"amount": {"in": {"a": 1}}})]}, "in: takes a list of values"),
    ("a boolean count", {"company_rules": [rule("QA101", {"count": "contacts", "at_least": True})]}, "whole number from 0 to 10000"),
    ("a bad as name", {"company_rules": [rule("QA101", {"count": "contacts", "is": 1, "as": "Not Valid!"})]}, "as: names the count"),
    ("a list for a code", {"company_rules": [{**rule("QA101", {"amount": 1}), "code": ["QA101"]}]}, "code"),
]


@pytest.mark.parametrize(("why", "settings", "expected"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_rule_file_is_exit_4_never_a_crash(tmp_path, why, settings, expected) -> None:
    directory = write_playbook(tmp_path / "company", settings, templates=())
    result = CliRunner().invoke(cli, ["rules", "--playbook", str(directory)])
    assert result.exit_code == 4, (why, result.output)
    assert expected in result.output and "Traceback" not in result.output


def test_a_huge_rule_file_is_exit_4(tmp_path) -> None:
    directory = tmp_path / "company"
    directory.mkdir()
    filler = "".join(f"  - {{code: QA{i % 1000:03d}, when: {{amount: {i}}}}}\n" for i in range(40_000))
    (directory / "playbook.yaml").write_text("company_rules:\n" + filler, encoding="utf-8")
    result = CliRunner().invoke(cli, ["rules", "--playbook", str(directory)])
    assert result.exit_code == 4 and "the most a playbook file may hold" in result.output


def test_yaml_yes_and_no_read_as_true_and_false_for_yes_no_terms(tmp_path) -> None:
    text = "company_rules:\n  - {code: QA101, symbol: qa, kind: risk, severity: warn, summary: s, rationale: r,\n" \
           "     when: {customer.state_owned: yes}}\n"
    directory = write_playbook(tmp_path / "company", text, templates=("QA101",))
    coach = Coach(load_playbook(directory))
    assert fired(coach, deal_with(customer={"state_owned": True}), "QA101") == [None]
    assert fired(coach, deal_with(), "QA101") == []


def test_the_readme_example_of_a_company_rule_loads_and_runs(tmp_path) -> None:
    """The playbook.yaml shown under README "Company rules" is a working one."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Company rules"):]
    text = section[section.index("```yaml\n") + 8:section.index("```\n", section.index("```yaml\n"))]
    directory = write_playbook(tmp_path / "company", text, templates=("HX101",))
    coach = Coach(load_playbook(directory))
    assert coach.rule("HX101").place == "DC312" and coach.rule("DC505").severity == "block"
    assert {"DC315", "DC312"} <= set(coach.switched_off())
    deal = deal_with(amount=6000000, customer={"state_owned": True}, stage="proposal", buying_step="set_specifications",
                     contacts=[{"id": "wang", "stance": "neutral"}])
    assert fired(coach, deal, "HX101") == [None]


def test_rules_may_name_a_shipped_rule_by_symbol_and_add_what_it_yields_to(tmp_path) -> None:
    coach = coach_for(tmp_path, rule("QA101", {"amount": {"at_least": 1}}),
                      changes={"budget-without-evidence": {"yields_to": ["QA101"]}, "dc315": {"enabled": False}})
    assert coach.rule("DC505").yields_to[-1] == "QA101" and ("yields_to", "none") in coach.rule("DC505").tuned
    assert "DC315" in coach.switched_off()
    report = coach.review(_warned(deal_with()))
    assert [(s.reason, s.detail) for s in report.suppressed if s.code == "DC505"] == [("yields_to", "QA101")]


def test_stages_and_stage_terms_take_names_as_well_as_ids(tmp_path) -> None:
    coach = coach_for(tmp_path, rule("QA101", {"stage": "开发阶段", "buying_step": "内部需求和立项"}, stages=["开发阶段", "Proposal"]))
    assert coach.rule("QA101").stages == frozenset({"development", "proposal"})
    assert fired(coach, deal_with(), "QA101") == [None]


@pytest.mark.parametrize(("condition", "holds", "fails"), [
    ({"phase": {"less_than": "proposal"}}, {}, {"stage": "proposal", "buying_step": "set_specifications"}),
    ({"phase": "after_contract"}, {"milestones": ["contract_signed"], "stage": "implementation", "buying_step": "installation"},
     {"stage": "negotiation", "buying_step": "purchase_commitment"}),
    ({"currency": "CNY", "amount": {"at_least": 3000000}}, {"amount": 3000000}, {"amount": 3000000, "currency": "EUR"}),
])
def test_phase_and_currency_terms(tmp_path, condition, holds, fails) -> None:
    coach = coach_for(tmp_path, rule("QA101", condition))
    assert fired(coach, deal_with(**holds), "QA101") == [None]
    assert fired(coach, deal_with(**fails), "QA101") == []


def test_rules_explains_a_switched_off_rule_and_terms_list_the_stages(tmp_path) -> None:
    directory = write_playbook(tmp_path / "company", {"rules": {"DC315": {"enabled": False}}})
    runner = CliRunner()
    off = runner.invoke(cli, ["rules", "DC315", "--playbook", str(directory)])
    assert off.exit_code == 0 and "Switched off by the playbook" in off.output and "user-not-covered" in off.output
    terms = runner.invoke(cli, ["rules", "--terms"])
    assert "stage ids (standard-6):" in terms.output and "proposal 提案阶段" in terms.output
    assert "buying-step ids (lead-to-contract-5):" in terms.output


@pytest.mark.parametrize(("text", "expected"), [
    ("company_rules:\n  - code: QA101\n\twhen: {amount: 1}\n", "line 3, column 1: cannot read playbook file: not valid YAML: "
     "found a tab character that violates indentation (YAML indents with spaces; a tab is not allowed)"),
    ("company_rules:\n  - code: QA101\n    when:\n      all:\n      - amount: 1\n     - competitors: 0\n",
     "line 6, column 6: cannot read playbook file: not valid YAML: did not find expected key (look at the indentation"),
])
def test_a_yaml_mistake_names_line_column_and_the_usual_cause(tmp_path, text, expected) -> None:
    directory = write_playbook(tmp_path / "company", text, templates=())
    result = CliRunner().invoke(cli, ["rules", "--playbook", str(directory)])
    assert result.exit_code == 4 and expected in result.output


def test_the_names_a_template_may_read_are_those_a_finding_is_rendered_with() -> None:
    """The load-time check of company templates (rendering.FINDING_CONTEXT) allows exactly what finding_text gives."""
    from dealcoach.engine.rendering import FINDING_CONTEXT

    coach = Coach(load_playbook())
    report = coach.review(deal_with())
    assert set(coach.renderer._helpers(report, "zh")) | {"deal", "thresholds", "owner", "by"} == set(FINDING_CONTEXT)


# -- what a red-team reading found --------------------------------------------------------------------------------

ENGINE_LIMITS = [
    # each loads fine by every other rule, and would hang or fail on a deal in the engine: refused when it loads
    ("a table of tests that would fill up (a review would never return)",
     [rule(f"QA{i:03d}", {"amount": {"in": list(range(i * 50 + 1, i * 50 + 51))}}) for i in range(10)], "different tests follow"),
    ("more tests that could hold at once than the engine follows",
     [rule(f"QA{i:03d}", {"amount": {"at_least": i + 1}}) for i in range(48)], "tests could hold for one fact at the same time"),
    ("more alternatives ending on one test than it links",
     [rule(f"QA{i:03d}", {"all": [{"any": [{"budget.evidence": "none"}, {"budget.evidence": "our_estimate"}]}
                                  for _ in range(1)] + [{"amount": {"in": list(range(i * 30, i * 30 + 30))}}]})
      for i in range(9)], "end on the same test"),
]


@pytest.mark.parametrize(("why", "rules", "expected"), ENGINE_LIMITS, ids=[e[0] for e in ENGINE_LIMITS])
def test_rules_past_the_engines_fixed_sizes_are_refused_when_the_playbook_loads(tmp_path, why, rules, expected) -> None:
    directory = write_playbook(tmp_path / "company", {"company_rules": rules})
    result = CliRunner().invoke(cli, ["rules", "--playbook", str(directory)])
    assert result.exit_code == 4, (why, result.output)
    assert expected in result.output and "company rule QA" in result.output and "Fewer rules" in result.output


def test_rules_within_the_engines_sizes_review_every_example(tmp_path) -> None:
    """Nine rules of fifty values each fit (and took 0.7 s to review before the check existed): they still work."""
    rules = [rule(f"QA{i:03d}", {"amount": {"in": list(range(i * 50 + 1, i * 50 + 51))}}) for i in range(9)]
    coach = coach_for(tmp_path, *rules)
    assert fired(coach, deal_with(amount=120), "QA002") == [None]


@pytest.mark.parametrize(("condition", "traits", "expected"), [
    ({"count": ["contacts"], "is": 0}, {}, "cannot count ['contacts']"),
    ({"count": {"a": 1}, "is": 0}, {}, "cannot count"),
    ({"all": [{"count": "contacts", "is": 1, "as": "n"}, {"count": "competitors", "is": 1, "as": "n"}]}, {}, "as: n is already another count"),
    ({"count": "competitors", "is": 1, "as": "name"}, {"subject": "contact"}, "as: name is already the person's"),
    ({"count": "competitors", "is": 1, "as": "money"}, {}, "as: money is already a name every template has"),
    ({"amount": 1}, {"symbol": "qa102"}, "symbol 'qa102' reads as the code QA102"),
    ({"amount": 1}, {"code": "QA101\n"}, "code"),
    ({"amount": 1}, {"code": "QA١٠١"}, "code"),
])
def test_names_that_would_mislead_are_refused(tmp_path, condition, traits, expected) -> None:
    first = {**rule("QA101", condition), **traits}
    directory = write_playbook(tmp_path / "company", {"company_rules": [first, rule("QA102", {"amount": 2})]}, templates=())
    result = CliRunner().invoke(cli, ["rules", "--playbook", str(directory)])
    assert result.exit_code == 4 and expected in result.output, result.output


def test_a_key_written_twice_in_playbook_yaml_is_refused(tmp_path) -> None:
    text = ("company_rules:\n  - {code: QA101, symbol: qa, kind: risk, severity: warn, summary: s, rationale: r,\n"
            "     when: {amount: {at_least: 999999999}, amount: {at_least: 1}}}\ncompany_rules: []\n")
    directory = write_playbook(tmp_path / "company", text, templates=("QA101",))
    result = CliRunner().invoke(cli, ["rules", "--playbook", str(directory)])
    assert result.exit_code == 4 and "line 3: 'amount' is written twice in the same place" in result.output


def test_switching_off_takes_true_or_false_only(tmp_path) -> None:
    directory = write_playbook(tmp_path / "company", {"rules": {"DC505": {"enabled": "no"}}})
    result = CliRunner().invoke(cli, ["rules", "--playbook", str(directory)])
    assert result.exit_code == 4 and "enabled" in result.output


def test_rules_as_json_is_a_list_with_switched_off_rules_marked(tmp_path) -> None:
    directory = write_playbook(tmp_path / "company", {"rules": {"DC315": {"enabled": False}}})
    entries = json.loads(CliRunner().invoke(cli, ["rules", "--format", "json", "--playbook", str(directory)]).output)
    assert isinstance(entries, list) and [e["code"] for e in entries if e["switched_off"]] == ["DC315"]
    shipped = json.loads(CliRunner().invoke(cli, ["rules", "--format", "json"]).output)
    assert isinstance(shipped, list) and not any(e["switched_off"] for e in shipped)


def test_alternatives_that_hold_together_give_one_finding(tmp_path) -> None:
    """Each alternative matches only the facts it tests (the deal, the budget): a deal meeting both is found once,
    and a person meeting both alternatives of a contact rule once."""
    coach = coach_for(tmp_path, rule("QA101", {"any": [{"amount": {"at_least": 1}}, {"budget.evidence": "none"}]}),
                      rule("QA102", {"any": [{"contact.stance": "opposes"}, {"contact.power": "political"}]}, subject="contact"))
    deal = deal_with(budget={"evidence": "none"})
    assert fired(coach, deal, "QA101") == [None]
    assert fired(coach, deal, "QA102") == ["li"]
