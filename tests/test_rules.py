"""Every rule fires on its named `fires` cases and stays silent on its `silent` cases.

Cases live in tests/rule_cases/<CODE>.yaml (see that folder's _base.yaml).
Both languages must render every finding a case produces.
"""

from __future__ import annotations

import pytest

import dealcoach
from dealcoach.engine.rendering import Renderer
from dealcoach.engine.whatif import merge_patch
from dealcoach.rules import catalog

from helpers import case_deal, rule_cases

CASES = rule_cases()


def _run(case: dict):
    deal = case_deal(case)
    if "gate" in case:
        return dealcoach.gate(deal, case["gate"]).report
    return dealcoach.review(deal)


def _params(code: str, kind: str):
    for case in CASES.get(code, {}).get(kind, []):
        yield pytest.param(code, case, id=f"{code}-{case['name']}")


@pytest.mark.parametrize("code,case", [p for code in CASES for p in _params(code, "fires")])
def test_rule_fires(code: str, case: dict) -> None:
    report = _run(case)
    fired = [f for f in report.findings if f.code == code]
    assert fired, f"{code} did not fire; fired: {[f.code for f in report.findings]}"
    if "subject" in case:
        assert case["subject"] in [f.subject for f in fired]
    for key, expected in case.get("params", {}).items():
        assert any(f.params.get(key) == expected for f in fired), (key, [f.params for f in fired])
    renderer = Renderer(dealcoach.load_playbook())
    for lang in ("zh", "en"):
        for finding in fired:
            text = renderer.finding_text(finding, report, lang)
            assert text.title and text.why and text.action


@pytest.mark.parametrize("code,case", [p for code in CASES for p in _params(code, "silent")])
def test_rule_stays_silent(code: str, case: dict) -> None:
    report = _run(case)
    assert code not in [f.code for f in report.findings]


def test_every_rule_has_cases_both_ways() -> None:
    codes = set(catalog().findings)
    assert set(CASES) == codes, f"missing cases: {codes - set(CASES)}, orphan cases: {set(CASES) - codes}"
    for code, cases in CASES.items():
        assert cases.get("fires") and cases.get("silent"), f"{code} needs both fires and silent cases"


RISKS = sorted(code for code, rule in catalog().findings.items() if rule.kind == "risk")


def test_every_risk_proves_what_clears_it() -> None:
    """Each risk rule has a fires case with a `clears` change; test_change_clears_the_risk applies it."""
    for code in RISKS:
        assert any("clears" in case for case in CASES[code]["fires"]), f"{code} has no fires case with `clears`"


@pytest.mark.parametrize(
    "code,case",
    [pytest.param(code, case, id=f"{code}-{case['name']}") for code in CASES for case in CASES[code]["fires"] if "clears" in case],
)
def test_change_clears_the_risk(code: str, case: dict) -> None:
    """The `clears` change, applied as a what-if, removes the finding (for gate cases, from the gate)."""
    deal = case_deal(case)
    if "gate" in case:
        after = dealcoach.gate(merge_patch(deal, case["clears"]), case["gate"]).report
        assert code not in [f.code for f in after.findings]
        return
    result = dealcoach.what_if(deal, case["clears"])
    assert code in [f.code for f in result.cleared], [f.code for f in result.cleared]
    assert code not in [f.code for f in result.after.findings]
