"""The engine is correct whatever the fact order, synchronous, loud on rule errors, and cleans up."""

from __future__ import annotations

import random
import subprocess
import sys
import threading

import pytest

import dealcoach
from dealcoach.engine import durable_adapter
from dealcoach.engine.api import load_deal
from dealcoach.engine.errors import RuleError
from dealcoach.engine.evaluation import evaluate
from dealcoach.engine.facts import build_facts, locate
from dealcoach.engine.rulebook import FindingRule, Kind, Rulebook, Severity
from dealcoach.rules import catalog, discover

from helpers import EXAMPLE_EN, EXAMPLES, case_deal, rule_cases


def _signature(findings) -> list[tuple]:
    return [(f.code, f.subject, tuple(f.evidence), repr(f.params), tuple(map(repr, f.chain))) for f in findings]


def _outcome_signature(outcome) -> tuple:
    return _signature([outcome.finding(f) for f in outcome.findings]), [repr(d) for d in outcome.derived]


def _all_deals() -> list[dict]:
    from helpers import read_yaml

    deals = [read_yaml(path) for path in EXAMPLES]
    for cases in rule_cases().values():
        deals += [case_deal(case) for case in cases["fires"] + cases["silent"]]
    return deals


@pytest.mark.exhaustive
def test_fact_order_does_not_change_findings() -> None:
    """Every example and rule case, evaluated with its facts shuffled 20 times, gives identical findings."""
    book = dealcoach.load_playbook()
    shuffler = random.Random(20261122)
    deals = _all_deals()
    assert len(deals) > 60
    for data in deals:
        deal = load_deal(data, book)
        position = locate(deal, book.stage_models[deal.stage_model])
        facts = build_facts(deal, position)
        expected = _outcome_signature(evaluate(catalog(), book.thresholds, facts))
        for _ in range(20):
            shuffler.shuffle(facts.facts)
            assert _outcome_signature(evaluate(catalog(), book.thresholds, facts)) == expected, deal.id


def test_contact_order_does_not_change_findings() -> None:
    from helpers import read_yaml

    data = read_yaml(EXAMPLE_EN)
    expected = [(f.code, f.subject) for f in dealcoach.review(data).findings]
    shuffler = random.Random(7)
    for _ in range(10):
        shuffler.shuffle(data["contacts"])
        assert [(f.code, f.subject) for f in dealcoach.review(data).findings] == expected


def _broken_rulebook() -> Rulebook:
    def explode(match):
        raise ZeroDivisionError("boom")

    from durable.lang import c, m, when_all

    broken = FindingRule(
        code="DC999", symbol="always-breaks", kind=Kind.RISK, severity=Severity.WARN, section="M1",
        summary="test", rationale="test", when=lambda t: when_all(c.deal << (m.t == "deal")), then=explode,
    )
    return Rulebook([*discover(), broken])


# What the minimal deal (tests/rule_cases/_base.yaml: no contacts, no milestones, first stage) must be told,
# from both passes: presence findings (DC106, one per unmet milestone) and absence findings judged on the
# ledger (DC301, DC302, DC401).
BASE_DEAL_FINDINGS = {
    ("DC301", None), ("DC302", None), ("DC401", None),
    ("DC106", "need_confirmed"), ("DC106", "opportunity_evaluated"), ("DC106", "customer_graded"),
}


def test_exception_in_an_action_surfaces_and_engine_stays_usable(deal: dict) -> None:
    book = dealcoach.load_playbook()
    before = [(f.code, f.subject) for f in dealcoach.review(deal).findings]
    assert BASE_DEAL_FINDINGS <= set(before), sorted(BASE_DEAL_FINDINGS - set(before), key=repr)
    checked = load_deal(deal, book)
    facts = build_facts(checked, locate(checked, book.stage_models[checked.stage_model]))
    with pytest.raises(RuleError, match="DC999 failed: ZeroDivisionError: boom"):
        evaluate(_broken_rulebook(), book.thresholds, facts)
    # The shipped rulebook still evaluates correctly afterwards: the same findings as before the failure.
    assert [(f.code, f.subject) for f in dealcoach.review(deal).findings] == before


def test_sessions_are_deleted(deal: dict) -> None:
    """durable-rules allows 1024 live sessions per ruleset; 1,500 evaluations prove each one is deleted."""
    first = _signature(dealcoach.review(deal).findings)
    for _ in range(1500):
        dealcoach.review(deal)
    assert _signature(dealcoach.review(deal).findings) == first


def test_no_background_threads_are_started(deal: dict) -> None:
    before = threading.active_count()
    dealcoach.review(deal)
    assert threading.active_count() == before


def test_concurrent_threads_get_the_same_answers() -> None:
    deals = _all_deals()[:20]
    expected = [_signature(dealcoach.review(d).findings) for d in deals]
    results: dict[int, list] = {}

    def work(worker: int) -> None:
        results[worker] = [_signature(dealcoach.review(d).findings) for d in deals]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[i] == expected for i in range(4))


def test_every_derivation_is_consumed() -> None:
    """A derived fact nobody reads is dead code: each derivation is read by a rule or counted in a ledger rule."""
    book = catalog()
    definition = book.definition(dealcoach.load_playbook().thresholds)
    aliases = Rulebook.aliases(definition)
    read = {info.fact_type for by_alias in aliases.values() for info in by_alias.values()}
    counted = {f for by_alias in aliases.values() for info in by_alias.values() if info.fact_type == "ledger" for f in info.fields}
    assert set(book.derivations) <= read | counted


def test_evidence_paths_exist_in_the_input() -> None:
    """Every evidence path of every finding names a field the deal file has (or could have) at that place."""
    from dealcoach.engine.model import Deal

    for data in _all_deals():
        for finding in dealcoach.review(data).findings:
            for path in finding.evidence:
                head = path.split("[")[0].split(".")[0]
                assert head in Deal.model_fields, (finding.code, path)


def test_rulebook_rejects_bad_rules() -> None:
    from durable.lang import c, m, when_all

    def rule(**changes):
        spec = dict(code="DC998", symbol="fine-name", kind=Kind.RISK, severity=Severity.WARN, section="M4.3",
                    summary="s", rationale="r", when=lambda t: when_all(c.x << (m.t == "deal")))
        spec.update(changes)
        return FindingRule(**spec)

    with pytest.raises(ValueError, match="code must be DCnnn"):
        Rulebook([rule(code="X1")])
    with pytest.raises(ValueError, match="section"):
        Rulebook([rule(section="chapter 4")])
    with pytest.raises(ValueError, match="defined twice"):
        Rulebook([rule(), rule()])
    with pytest.raises(ValueError, match="ledger fields that are not counted"):
        book = Rulebook([rule(when=lambda t: when_all(c.l << (m.t == "ledger") & (m.nothing == 0)))])
        book.ledger_fields(book.definition(dealcoach.load_playbook().thresholds))


def test_adapter_refuses_duplicate_fact_ids() -> None:
    from durable.lang import c, m, when_all

    ruleset = durable_adapter.compiled_ruleset(
        "test-duplicates", lambda: {"r": when_all(c.x << (m.t == "thing")).define()}
    )
    with ruleset.session() as session:
        with pytest.raises(RuleError, match="already asserted"):
            session.run([{"t": "thing", "id": "1"}, {"t": "thing", "id": "1"}], lambda name, match: [])


def test_no_rule_uses_order_dependent_absence() -> None:
    """durable-rules' none() depends on fact order; absence is judged on the ledger instead."""
    definition = catalog().definition(dealcoach.load_playbook().thresholds)
    assert "$not" not in repr(definition)


def test_the_package_is_loaded_once() -> None:
    """No second copy of the engine under another package name (e.g. the checkout folder's)."""
    import sys

    copies = [name for name in sys.modules if name.endswith("engine.durable_adapter")]
    assert copies == ["dealcoach.engine.durable_adapter"]


def test_a_fact_meeting_two_branches_of_an_or_fires_once(deal: dict) -> None:
    """durable-rules expands `a | b` into one rule per branch; the engine reports one finding."""
    deal["contacts"] = [{"id": "a", "name": "甲", "roles": ["decision_maker", "technical_gatekeeper"], "stance": "opposes"}]
    deal["objective"] = {"what": "MES"}
    codes = [f.code for f in dealcoach.review(deal).findings]
    assert codes.count("DC304") == 1 and codes.count("DC501") == 1 and codes.count("DC303") == 1


def test_gate_only_flag_matches_the_rules_that_read_the_gate() -> None:
    """A rule is documented as gate-only exactly when its condition needs the gate fact."""
    book = catalog()
    aliases = Rulebook.aliases(book.definition(dealcoach.load_playbook().thresholds))
    for code, rule in book.findings.items():
        reads_gate = any(info.fact_type == "gate" for info in aliases[code].values())
        assert rule.gate_only == reads_gate, code


def test_tiny_amounts_do_not_reach_the_engine_in_exponent_notation(deal: dict) -> None:
    """durable-rules' JSON parser misreads 1e-07 and then crashes; money is rounded to cents first."""
    deal["amount"] = 1e-7
    deal["receivables"] = [
        {"amount": 5e-5, "due": "2026-10-01"},  # rounds to 0.00 outstanding: nothing to collect
        {"amount": 0.05, "paid": 1e-7, "due": "2026-10-01"},  # 0.0499999 outstanding rounds to 0.05, 50 days overdue
    ]
    findings = dealcoach.review(deal).findings
    got = {(f.code, f.subject) for f in findings}
    assert BASE_DEAL_FINDINGS <= got, sorted(BASE_DEAL_FINDINGS - got, key=repr)
    [below] = [f for f in findings if f.code == "DC607"]  # an amount of 0.00 is below the funnel threshold
    assert below.evidence == ["amount"]
    [overdue] = [f for f in findings if f.code == "DC901"]
    assert overdue.subject == "1" and overdue.params["outstanding"] == 0.05 and overdue.params["days"] == 50
    assert not [f for f in findings if f.code.startswith("DC90") and f.subject == "0"]


def test_adapter_refuses_exponent_floats() -> None:
    from durable.lang import c, m, when_all

    ruleset = durable_adapter.compiled_ruleset("test-exponent", lambda: {"r": when_all(c.x << (m.t == "thing")).define()})
    with ruleset.session() as session:
        with pytest.raises(RuleError, match="a number the engine cannot read"):
            session.run([{"t": "thing", "id": "1", "v": 1e-7}], lambda name, match: [])


_NOTHING_FIRES = """
from dealcoach.engine import durable_adapter
ruleset = durable_adapter.compiled_ruleset("nothing-fires", lambda: {
    "pair": {"all": [{"a": {"t": "a"}}, {"b": {"t": "b"}}]},
})
with ruleset.session() as session:
    session.run([{"t": "b", "id": "b1"}], lambda name, matched: ())
print("deleted")
"""


def test_a_session_in_which_nothing_fired_is_deleted_safely_in_a_fresh_process() -> None:
    """The engine leaves a new session's action context unset until an action runs; deleting one in which none ran
    freed garbage (a segmentation fault on the first review in a process whose engine rules all missed)."""
    for _ in range(3):
        run = subprocess.run([sys.executable, "-c", _NOTHING_FIRES], capture_output=True, text=True, timeout=60, check=False)
        assert (run.returncode, run.stdout.strip()) == (0, "deleted"), run.stderr[-500:]
