"""The pre-meeting brief: content, one A4 page in a real headless browser, a chat-sized Markdown, JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

import dealcoach
from dealcoach.cli import cli
from dealcoach.engine.brief import PURPOSE_SPELLINGS, ROLE_ORDER, resolve_purpose
from dealcoach.engine.coach import UsageError
from dealcoach.engine.brief_rendering import CHAT_LIMIT, BriefRenderer
from dealcoach.engine.playbook import PURPOSES
from dealcoach.engine.rendering import Renderer
from dealcoach.service.app import Settings, create_app

from helpers import EXAMPLES, EXAMPLE_ZH, base_deal, read_yaml
from test_clean_prose import problems

MEETING = dt.date(2026, 11, 25)
EVERYONE = {path.name: [c["id"] for c in read_yaml(path)["contacts"]] for path in EXAMPLES}
RENDERER = BriefRenderer(Renderer(dealcoach.load_playbook()))
PRICE_DEAL = EXAMPLE_ZH.parent / "chemical-price-negotiation.zh.yaml"
CHEMICAL = EXAMPLE_ZH.parent / "chemical-sis-negotiation.zh.yaml"
# every purpose by its id and by a Chinese spelling, a free-text one the brief recognises, and one it does not
STATED = [*PURPOSES, "首次拜访", "技术交流", "方案汇报", "商务谈判", "标书澄清", "验收", "最终价格和付款条款", "季度复盘"]
NUMBERED = re.compile(r"第\s*\d+\s*题|questions? \d")


def example_brief():
    return dealcoach.brief(str(EXAMPLE_ZH), ["chen", "liu", "li"], MEETING, "技术方案交流")


def test_content_follows_the_findings_and_the_purpose() -> None:
    brief = example_brief()
    assert brief.purpose_id == "technical_exchange" and brief.report.purpose == "technical_exchange"
    assert brief.best_commitment == "specs_influenced"  # the first unmet milestone of the proposal stage
    assert brief.minimum.key == "purpose.technical_exchange.minimum"
    people = {a.id: a for a in brief.attendees}
    assert [f.code for f in people["chen"].risks] == ["DC303"] and "DC502" in people["chen"].ask
    assert [f.code for f in people["li"].risks] == ["DC308"] and people["li"].ask == ["DC313"]
    # the gatekeeper is asked the technical question, the gaps that serve the purpose after the purpose's questions
    assert people["liu"].questions[0].line.key == "purpose.technical_exchange.ask.technical_gatekeeper"
    assert [q.code for q in brief.questions if q.code] == ["DC502", "DC506", "DC313"]
    assert [q.ident for q in people["li"].questions] == ["purpose.technical_exchange.ask.procurement_organiser", "DC313"]
    # a price meeting does not ask about the objective (what the project is for): it does not serve the purpose
    priced = dealcoach.brief(str(EXAMPLE_ZH), ["chen", "liu", "li"], MEETING, "商务谈判")
    assert [q.code for q in priced.questions if q.code] == ["DC313"]
    assert [f.code for f in brief.blocking] == ["DC102"]


@pytest.mark.parametrize("stated,expected", [
    ("negotiation", "negotiation"), ("商务谈判", "negotiation"), ("价格谈判", "negotiation"), ("谈价格", "negotiation"),
    ("最终价格和付款条款", "negotiation"), ("Final price and payment terms", "negotiation"),
    ("首次拜访", "first_visit"), ("first visit", "first_visit"), ("技术交流", "technical_exchange"),
    ("技术方案交流", "technical_exchange"), ("方案汇报", "proposal"), ("方案讲解", "proposal"),
    ("标书澄清", "tender_clarification"), ("澄清", "tender_clarification"), ("验收", "acceptance"),
    ("tender-clarification", "tender_clarification"), ("季度复盘", None), ("吃个饭", None),
])
def test_purpose_vocabulary_and_free_text(stated: str, expected: str | None) -> None:
    assert resolve_purpose(stated) == expected


def test_the_price_example_is_a_clean_hold_the_price_case() -> None:
    """The book's case: chosen us, the budget covers the quote twice over, a concession asked: its review leads with DC708."""
    report = dealcoach.review(str(PRICE_DEAL))
    assert report.findings[0].code == "DC708" and not report.blocking


def test_a_price_meeting_leads_with_what_we_concede_and_what_we_ask_in_return() -> None:
    brief = dealcoach.brief(str(PRICE_DEAL), EVERYONE[PRICE_DEAL.name], MEETING, "商务谈判")
    assert brief.purpose_id == "negotiation" and brief.report.purpose == "negotiation"
    # chosen us, the budget covers the quote: hold the price, trade only for terms, the open payment terms first
    assert [line.key for line in brief.lead[:3]] == [
        "purpose.negotiation.hold", "purpose.negotiation.trade_hold", "purpose.negotiation.floor"
    ]
    trades = brief.lead[1].terms["trades"]
    assert trades[:3] == ["purpose.trade.deposit", "purpose.trade.schedule_of_payment", "purpose.trade.signer"]
    assert trades.index("purpose.trade.signer") < trades.index("purpose.trade.volume")
    assert {line.key for line in brief.lead} >= {"purpose.negotiation.theirs_with_buyer", "purpose.negotiation.ours"}
    text = RENDERER.render(brief, lang="zh", fmt="markdown")
    sections = [line for line in text.splitlines() if line.startswith("**")]
    assert sections[1] == "**价格和条件怎么谈**"  # the first section after the title
    lead = text.split("**价格和条件怎么谈**\n", 1)[1].splitlines()
    assert lead[0].startswith("- 守住140万，不让价") and "预算280万" in lead[0]
    assert lead[1].startswith("- 对方坚持要降，只拿条件换：提高预付款")
    assert lead[2].startswith("- 底线130万")
    assert any(line.startswith("- 对方拍板的是赵建华（一人决策）：孙伟谈条件") for line in lead)
    assert "最低要拿到：价格守在140万，并把预付款比例、付款节奏谈定" in text
    # both parts of a price meeting (price, payment) are asked about, of the right people
    people = {a.id: a for a in brief.attendees}
    assert people["sun"].questions[0].line.key == "purpose.negotiation.ask.purchaser"
    assert people["zhao"].questions[0].line.key == "purpose.negotiation.ask.decision_maker"
    english = RENDERER.render(brief, lang="en", fmt="markdown")
    assert "- Hold CNY 1,400,000, no discount" in english


def test_without_a_floor_or_the_customers_choice_the_brief_sets_the_room_to_concede() -> None:
    deal = read_yaml(PRICE_DEAL)
    deal["negotiation"] = {"our_quote": 1400000, "walk_away": 1250000, "concessions": [{"amount": 50000}]}
    deal["payment_terms"] = {"agreed": True, "acceptance_criteria_agreed": True, "payment_signer_known": True}
    brief = dealcoach.brief(deal, ["zhao", "sun"], MEETING, "价格谈判")
    keys = [line.key for line in brief.lead]
    assert keys[:2] == ["purpose.negotiation.room", "purpose.negotiation.trade"] and "purpose.negotiation.conceded" in keys
    assert brief.lead[0].money == {"quote": 1400000, "floor": 1250000, "room": 150000}
    assert brief.lead[1].terms["trades"][0] == "purpose.trade.volume"  # the payment terms are settled
    assert brief.minimum.key == "purpose.negotiation.minimum_floor_paid"
    assert {a.id: a.questions[0].line.key for a in brief.attendees}["sun"] == "purpose.negotiation.ask.purchaser_paid"


def test_the_reviewers_case_no_longer_asks_what_the_project_solves() -> None:
    """A meeting on 最终价格和付款条款 with the whole buying centre of the SIS deal."""
    brief = dealcoach.brief(str(CHEMICAL), EVERYONE[CHEMICAL.name], MEETING, "最终价格和付款条款")
    assert brief.purpose == "最终价格和付款条款" and brief.purpose_id == "negotiation"
    assert brief.minimum_commitment is None and brief.minimum.key.startswith("purpose.negotiation.minimum")
    text = RENDERER.render(brief, lang="zh", fmt="markdown")
    minimum = next(line for line in text.splitlines() if line.startswith("- 最低要拿到"))
    assert "要解决什么问题" not in minimum and "让价" in minimum and "付款" in minimum
    assert "要解决什么问题" not in text
    # the decision maker gets substance: what the role cares about, a question, what we want after the meeting
    deng = text.split("- **邓国强**", 1)[1].split("\n- **", 1)[0]
    assert "关心：经济效益和风险" in deng and "要问：按420万签" in deng and "会后请对方：拍板" in deng
    # the opposed gatekeeper is not asked to act for us, only to stop opposing
    yao = text.split("- **姚文斌**", 1)[1].split("\n- **", 1)[0]
    assert "会后请对方：至少不再反对" in yao


@pytest.mark.parametrize("name", sorted(EVERYONE))
@pytest.mark.parametrize("stated", STATED)
def test_every_attendee_is_asked_a_question_in_words(name: str, stated: str) -> None:
    brief = dealcoach.brief(str(EXAMPLE_ZH.parent / name), EVERYONE[name], MEETING, stated)
    for lang in ("zh", "en"):
        view = RENDERER.view(brief, lang)
        for person in view["attendees"]:
            assert person["questions"] and all(q.strip() and not NUMBERED.search(q) for q in person["questions"]), person
            assert person["after"].strip()
        text = RENDERER.render(brief, lang=lang, fmt="markdown")
        labels = ("  要问：", "  会前单独问：") if lang == "zh" else ("  Ask: ", "  Ask alone, before the meeting: ")
        shown = text.count("\n- **")
        assert sum(text.count(f"\n{label}") for label in labels) >= shown and not NUMBERED.search(text)
        assert not problems(text, lang), problems(text, lang)


@pytest.mark.parametrize("name", sorted(EVERYONE))
@pytest.mark.parametrize("stated", STATED)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_markdown_fits_one_chat_message(name: str, stated: str, lang: str) -> None:
    brief = dealcoach.brief(str(EXAMPLE_ZH.parent / name), EVERYONE[name], MEETING, stated)
    text = RENDERER.render(brief, lang=lang, fmt="markdown")
    view = RENDERER.view(brief, lang)
    assert len(text.encode("utf-8")) <= CHAT_LIMIT and text.startswith("**")
    # the purpose as stated; one named from the vocabulary in the brief's language
    assert view["purpose"] in text and (view["purpose"] == stated or stated in PURPOSE_SPELLINGS)
    if view["lead"]:  # the purpose's goal is never trimmed
        assert f"- {view['lead'][0]}\n" in text
    assert view["minimum"] in text and view["best"] in text
    if brief.purpose_id is None:
        assert not brief.lead and brief.report.purpose is None


def test_a_free_text_purpose_is_kept_and_ranks_nothing() -> None:
    brief = dealcoach.brief(str(CHEMICAL), ["deng", "qian"], MEETING, "季度复盘")
    assert brief.purpose == "季度复盘" and brief.purpose_id is None and brief.report.purpose is None and not brief.lead
    assert [a.questions[0].line.key for a in brief.attendees if a.questions[0].line] == [
        "purpose.general.ask.decision_maker", "purpose.general.ask.procurement_organiser"
    ]
    text = RENDERER.render(brief, lang="zh", fmt="markdown")
    assert "目的：季度复盘" in text and "要问：这个项目您最看重什么结果？" in text


def test_every_purpose_has_a_question_and_an_ask_for_every_part_a_person_plays() -> None:
    terms = dealcoach.load_playbook().terms
    kinds = [role.value for role in ROLE_ORDER] + ["inside", "anyone"]
    for lang in ("zh", "en"):
        for purpose in [*PURPOSES, "general"]:
            for kind in kinds:
                assert f"purpose.{purpose}.ask.{kind}" in terms[lang] and f"purpose.{purpose}.after.{kind}" in terms[lang]
            if purpose != "general":
                assert f"brief.lead.{purpose}" in terms[lang]


def test_unknown_attendee_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="attendees not among this deal's contacts: ghost"):
        dealcoach.brief(str(EXAMPLE_ZH), ["chen", "ghost"], MEETING, "x")


def test_markdown_trims_a_crowded_meeting_to_fit() -> None:
    deal = base_deal()
    deal["contacts"] = [
        {"id": f"p{i}", "name": f"参会人{i}" * 3, "title": "副总经理兼项目总指挥" * 2, "roles": ["decision_maker", "technical_gatekeeper", "user"],
         "power": "core", "stance": "opposes", "brain": "A"}
        for i in range(40)
    ]
    for stated in ("全体评审会", "商务谈判"):
        brief = dealcoach.brief(deal, [f"p{i}" for i in range(40)], MEETING, stated)
        text = RENDERER.render(brief, lang="zh", fmt="markdown")
        assert len(text.encode("utf-8")) <= CHAT_LIMIT and not text.endswith("…\n")
        view = RENDERER.view(brief, "zh")
        assert all(f"{line}" in text for line in [*view["lead"][:1], view["best"], view["minimum"]])
        assert "- **参会人0" in text and "要问：" in text  # at least the first person, with a question


def test_html_escapes_names() -> None:
    deal = base_deal()
    deal["contacts"] = [{"id": "x", "name": "<script>alert(1)</script>", "roles": ["decision_maker"]}]
    html = RENDERER.render(dealcoach.brief(deal, ["x"], MEETING, "<b>purpose</b>"), lang="en", fmt="html")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;purpose" in html


def test_json_has_the_model_and_the_text() -> None:
    data = json.loads(RENDERER.render(example_brief(), lang="en", fmt="json"))
    assert data["brief"]["attendees"][0]["id"] == "chen" and data["text"]["questions"][0]["whom"] == "陈国华"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
BROWSER_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="no Chromium here (CI installs it)")
@pytest.mark.parametrize("name,stated", [
    ("example-deal.zh.yaml", "技术方案交流"), ("grid-monitoring-soe.zh.yaml", "标书澄清"), ("chemical-sis-negotiation.zh.yaml", "最终价格和付款条款"),
    ("chemical-price-negotiation.zh.yaml", "商务谈判"), ("pharma-cleanroom-implementation.zh.yaml", "验收"),
    ("warehouse-automation-lead.en.yaml", "季度复盘"),
])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_prints_on_one_a4_page_in_a_real_browser(tmp_path, name: str, stated: str, lang: str) -> None:
    assert CHROMIUM, "CI must have Chromium for this test (see .ci/run)"
    brief = dealcoach.brief(str(EXAMPLE_ZH.parent / name), EVERYONE[name], MEETING, stated)
    page = tmp_path / "brief.html"
    page.write_text(RENDERER.render(brief, lang=lang, fmt="html"), encoding="utf-8")
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    pdf, png = tmp_path / "brief.pdf", tmp_path / "brief.png"
    subprocess.run([CHROMIUM, *BROWSER_FLAGS, profile, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri()],
                   capture_output=True, timeout=90, check=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert pages == 1, f"{name} ({lang}) prints on {pages} pages"
    subprocess.run([CHROMIUM, *BROWSER_FLAGS, profile, f"--screenshot={png}", "--window-size=900,1250", page.as_uri()],
                   capture_output=True, timeout=90, check=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_cli_and_http(tmp_path) -> None:
    out = tmp_path / "brief.html"
    result = CliRunner().invoke(cli, ["brief", str(EXAMPLE_ZH), "-a", "chen,liu", "--date", "2026-11-25", "--purpose", "交流",
                                      "--format", "html", "-o", str(out)])
    assert result.exit_code == 0 and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    price = CliRunner().invoke(cli, ["brief", str(PRICE_DEAL), "-a", "zhao,sun", "--date", "2026-11-25", "--purpose", "谈价格"])
    assert price.exit_code == 0 and price.output.splitlines()[3] == "**价格和条件怎么谈**"
    missing = CliRunner().invoke(cli, ["brief", str(EXAMPLE_ZH), "-a", "ghost", "--date", "2026-11-25", "--purpose", "x"])
    assert missing.exit_code == 2 and "attendees not among this deal's contacts: ghost" in missing.output
    client = TestClient(create_app(Settings()))
    params = {"attendees": "chen,li", "date": "2026-11-25", "purpose": "交流", "format": "markdown"}
    answer = client.post("/v1/brief", params=params, json=read_yaml(EXAMPLE_ZH))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/markdown") and "会前简报" in answer.text
    priced = client.post("/v1/brief", params={**params, "attendees": "zhao,sun", "purpose": "商务谈判", "format": "json"},
                         json=read_yaml(PRICE_DEAL))
    assert priced.status_code == 200 and priced.json()["brief"]["purpose_id"] == "negotiation"
    assert priced.json()["brief"]["report"]["purpose"] == "negotiation"
    bad = client.post("/v1/brief", params={**params, "attendees": "ghost"}, json=read_yaml(EXAMPLE_ZH))
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "attendees"


def test_our_insider_or_coach_is_asked_alone_before_the_meeting_not_in_front_of_colleagues() -> None:
    """M4.1: an insider's help must not show; with other customer people in the room, ask them beforehand."""
    chemical = EXAMPLE_ZH.parent / "chemical-sis-negotiation.zh.yaml"
    together = RENDERER.render(dealcoach.brief(str(chemical), ["deng", "yao", "qian", "song"], MEETING, "商务谈判"), lang="zh", fmt="markdown")
    song = together[together.index("**宋佳**"):]
    assert "会前单独问：" in song.split("\n- **")[0] and "  要问：" not in song.split("\n- **")[0]
    deng = together[together.index("**邓国强**"):].split("\n- **")[0]
    assert "  要问：" in deng and "会前单独问" not in deng
    alone = RENDERER.render(dealcoach.brief(str(chemical), ["song"], MEETING, "商务谈判"), lang="zh", fmt="markdown")
    assert "  要问：" in alone and "会前单独问" not in alone


def test_a_customer_on_credit_watch_is_asked_for_security_first_and_never_for_more_volume() -> None:
    """M6.3 and M9.1: with the customer's credit under watch, a concession buys a guarantee, not a bigger exposure."""
    chemical = EXAMPLE_ZH.parent / "chemical-sis-negotiation.zh.yaml"  # credit: watch
    text = RENDERER.render(dealcoach.brief(str(chemical), ["deng", "qian"], MEETING, "商务谈判"), lang="zh", fmt="markdown")
    trade = next(line for line in text.splitlines() if "换" in line and "预付款" in line)
    assert "银行保函或信用证" in trade and trade.index("银行保函") < trade.index("预付款") and "加订" not in trade
    price = EXAMPLE_ZH.parent / "chemical-price-negotiation.zh.yaml"  # credit not flagged
    other = RENDERER.render(dealcoach.brief(str(price), ["zhao", "sun"], MEETING, "商务谈判"), lang="zh", fmt="markdown")
    assert "加订备件" in other and "银行保函" not in other
