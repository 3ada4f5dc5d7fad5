"""A company rule and a shipped rule behave identically in review, gate, pipeline, brief and the service.

Two playbooks over the same deals: one keeps DC505 (about the deal) and DC304 (about each person) with plain
templates; the other replaces them with company rules QA505 and QA304 written in the condition language,
with the same traits and the same templates. Every answer must be the same once the codes are swapped —
except the reasoning trail (evidence, chain, the record fields that clear it), which names the fields each
condition reads; each rule's template parameters (its own inputs: the rendered texts are compared instead);
the rule-set version, which names the playbook; and the service's random decision id.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dealcoach.cli import cli
from dealcoach.engine.coach import Coach
from dealcoach.engine.playbook import load_playbook
from dealcoach.service.app import Settings, create_app

from company import rule, write_playbook
from generated import deals as generated_deals
from helpers import EXAMPLES, read_yaml

SAME = {"QA505": "DC505", "QA304": "DC304"}
TRAIL = {"evidence", "chain", "clears_fields", "ruleset_version", "decision_id", "params"}
VERSION = re.compile(r"\d+\.\d+\.\d+\+[0-9a-f]{12}")
TEMPLATE = {
    "zh": "{% block short %}{{ what }}{% endblock %}{% block item %}{{ name|default('项目') }}{% endblock %}"
          "{% block title %}{{ what }}：{{ name|default(deal.name) }}{% endblock %}{% block why %}{{ what }}的原因。{% endblock %}"
          "{% block action %}{{ by }}处理{{ what }}。{% endblock %}{% block first %}{{ by }}先处理{{ what }}{% endblock %}"
          "{% block clears %}{{ what }}解除。{% endblock %}{% block question %}{{ what }}怎么样了？{% endblock %}",
    "en": "{% block short %}{{ what }}{% endblock %}{% block item %}{{ name|default('deal') }}{% endblock %}"
          "{% block title %}{{ what }}: {{ name|default(deal.name) }}{% endblock %}{% block why %}Why {{ what }}.{% endblock %}"
          "{% block action %}{{ by }}, handle {{ what }}.{% endblock %}{% block first %}{{ by }}, first {{ what }}{% endblock %}"
          "{% block clears %}{{ what }} cleared.{% endblock %}{% block question %}How is {{ what }}?{% endblock %}",
}
PRE_SALE = ["qualify", "entry", "proposal", "bidding", "negotiation"]


def _templates(directory, names: dict[str, str]) -> None:
    for code, what in names.items():
        for language, body in TEMPLATE.items():
            folder = directory / "templates" / "findings" / language
            folder.mkdir(parents=True, exist_ok=True)
            if what == "budget":  # about the deal: no person to name
                body = body.replace("name|default(deal.name)", "deal.name").replace("name|default('项目')", "'项目'").replace(
                    "name|default('deal')", "'deal'")
            (folder / f"{code}.j2").write_text(body.replace("{{ what }}", what), encoding="utf-8")


@pytest.fixture(scope="module")
def playbooks(tmp_path_factory):
    root = tmp_path_factory.mktemp("equivalence")
    shipped = write_playbook(root / "shipped", {})
    _templates(shipped, {"DC505": "budget", "DC304": "opposed"})
    company = write_playbook(root / "company", {"company_rules": [
        rule("QA505", {"budget.evidence": {"in": ["our_estimate", "none", "unknown"]}}, symbol="budget-without-evidence",
             section="M5.5", replaces="DC505", phases=PRE_SALE, topics=["budget"], asks=["purchaser", "decision_maker", "coach"]),
        rule("QA304", {"contact.stance": "opposes", "contact.role": {"in": ["decision_maker", "technical_gatekeeper"]},
                       "contact.active": {"in": [True, False]}},
             symbol="key-person-opposed", section="M3.1", replaces="DC304", severity="block", subject="contact", topics=["people"]),
    ]}, templates=())
    _templates(company, {"QA505": "budget", "QA304": "opposed"})
    return shipped, company


def _deals() -> list[dict]:
    found = [read_yaml(path) for path in EXAMPLES]
    return found + generated_deals(120)


def normal(value):
    """An answer with the company codes named as the shipped ones and the reasoning trail left out."""
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items() if k not in TRAIL}
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, str):
        value = VERSION.sub("VERSION", value)
        for company, shipped in SAME.items():
            value = value.replace(company, shipped)
    return value


@pytest.mark.exhaustive
def test_review_and_gate_answer_alike_and_the_rules_fire(playbooks) -> None:
    shipped, company = (Coach(load_playbook(p)) for p in playbooks)
    fired = set()
    for deal in _deals():
        one, two = shipped.review(deal), company.review(deal)
        fired |= {f.code for f in two.findings}
        assert normal(json.loads(company.render(two, fmt="json"))) == normal(json.loads(shipped.render(one, fmt="json")))
        for language in ("zh", "en"):
            assert normal(company.render(two, lang=language, show_all=True)) == normal(shipped.render(one, lang=language, show_all=True))
        model = company.playbook.stage_models[two.stage_model]
        for stage in (model.stages[-1].id, model.stages[min(two.stage.index + 1, len(model.stages) - 1)].id):
            gate_one, gate_two = shipped.gate(deal, stage), company.gate(deal, stage)
            assert normal(json.loads(company.render(gate_two, fmt="json"))) == normal(json.loads(shipped.render(gate_one, fmt="json")))
    assert {"QA505", "QA304"} <= fired  # the comparison covered both rules firing


def test_the_brief_answers_alike(playbooks) -> None:
    shipped, company = (Coach(load_playbook(p)) for p in playbooks)
    compared = 0
    for deal in _deals():
        people = [c["id"] for c in deal.get("contacts", [])][:3]
        if not people:
            continue
        meeting = dt.date.fromisoformat(str(deal["as_of"])) + dt.timedelta(days=3)
        one, two = shipped.brief(deal, people, meeting, "negotiation"), company.brief(deal, people, meeting, "negotiation")
        for fmt in ("markdown", "json"):
            assert normal(company.render_brief(two, lang="zh", fmt=fmt)) == normal(shipped.render_brief(one, lang="zh", fmt=fmt)) \
                if fmt == "markdown" else normal(json.loads(company.render_brief(two, fmt=fmt))) == normal(
                    json.loads(shipped.render_brief(one, fmt=fmt)))
        compared += 1
    assert compared > 50


def test_the_pipeline_answers_alike(playbooks, tmp_path) -> None:
    source = tmp_path / "deals.jsonl"
    source.write_text("".join(json.dumps(d, ensure_ascii=False, default=str) + "\n" for d in _deals()), encoding="utf-8")
    outputs = []
    for playbook in playbooks:
        out = tmp_path / f"{playbook.name}.jsonl"
        summary = tmp_path / f"{playbook.name}.json"
        result = CliRunner().invoke(cli, ["pipeline", str(source), "-o", str(out), "--summary", str(summary), "--summary-format",
                                          "json", "--playbook", str(playbook), "-q", "-j", "2"])
        assert result.exit_code == 0, result.output
        lines = [normal(json.loads(line)) for line in out.read_text(encoding="utf-8").splitlines()]
        outputs.append((lines, normal(json.loads(summary.read_text(encoding="utf-8")))))
    assert outputs[0] == outputs[1]
    assert any("DC304" in json.dumps(line) for line in outputs[1][0])


def test_the_service_answers_alike(playbooks) -> None:
    clients = [TestClient(create_app(Settings(playbook_dir=str(p)))) for p in playbooks]
    for deal in _deals()[:40]:
        body = json.loads(json.dumps(deal, default=str))
        answers = [normal(client.post("/v1/review", json=body).json()) for client in clients]
        assert answers[0] == answers[1]
        gates = [normal(client.post("/v1/gate", params={"to": "negotiation"}, json=body).json()) for client in clients]
        assert gates[0] == gates[1]
    rules = [{r["code"]: r for r in client.get("/v1/rules").json()} for client in clients]
    assert rules[1]["QA304"]["origin"] == "company" and rules[1]["QA304"]["subject"] == "contact"
    assert "DC304" not in rules[1] and rules[1]["DC707"]["yields_to"] == ["QA304"]
