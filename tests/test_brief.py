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
from dealcoach.engine.brief_rendering import CHAT_LIMIT, BriefRenderer
from dealcoach.engine.rendering import Renderer
from dealcoach.service.app import Settings, create_app

from helpers import EXAMPLES, EXAMPLE_ZH, base_deal, read_yaml

MEETING = dt.date(2026, 11, 25)
EVERYONE = {path.name: [c["id"] for c in read_yaml(path)["contacts"]] for path in EXAMPLES}
RENDERER = BriefRenderer(Renderer(dealcoach.load_playbook()))


def example_brief():
    return dealcoach.brief(str(EXAMPLE_ZH), ["chen", "liu", "li"], MEETING, "技术方案交流")


def test_content_follows_the_findings() -> None:
    brief = example_brief()
    assert brief.best_commitment == "specs_influenced"  # the first unmet milestone of the proposal stage
    assert [q.code for q in brief.questions] == ["DC502", "DC506", "DC313"]
    assert brief.minimum_commitment == "DC502"
    people = {a.id: a for a in brief.attendees}
    assert [f.code for f in people["chen"].risks] == ["DC303"] and "DC502" in people["chen"].ask
    assert [f.code for f in people["li"].risks] == ["DC308"] and people["li"].ask == ["DC313"]
    assert [f.code for f in brief.blocking] == ["DC102"]


def test_unknown_attendee_is_an_input_error() -> None:
    with pytest.raises(dealcoach.DealInputError, match="not contact ids of this deal: ghost"):
        dealcoach.brief(str(EXAMPLE_ZH), ["chen", "ghost"], MEETING, "x")


@pytest.mark.parametrize("name", sorted(EVERYONE))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_markdown_fits_one_chat_message(name: str, lang: str) -> None:
    brief = dealcoach.brief(str(EXAMPLE_ZH.parent / name), EVERYONE[name], MEETING, "季度复盘")
    text = RENDERER.render(brief, lang=lang, fmt="markdown")
    assert len(text.encode("utf-8")) <= CHAT_LIMIT and text.startswith("**")


def test_markdown_trims_a_crowded_meeting_to_fit() -> None:
    deal = base_deal()
    deal["contacts"] = [
        {"id": f"p{i}", "name": f"参会人{i}" * 3, "title": "副总经理兼项目总指挥" * 2, "roles": ["decision_maker", "technical_gatekeeper", "user"],
         "power": "core", "stance": "opposes", "brain": "A"}
        for i in range(40)
    ]
    brief = dealcoach.brief(deal, [f"p{i}" for i in range(40)], MEETING, "全体评审会")
    assert len(RENDERER.render(brief, lang="zh", fmt="markdown").encode("utf-8")) <= CHAT_LIMIT


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
@pytest.mark.parametrize("name", ["example-deal.zh.yaml", "grid-monitoring-soe.zh.yaml", "chemical-sis-negotiation.zh.yaml"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_prints_on_one_a4_page_in_a_real_browser(tmp_path, name: str, lang: str) -> None:
    assert CHROMIUM, "CI must have Chromium for this test (see .ci/run)"
    brief = dealcoach.brief(str(EXAMPLE_ZH.parent / name), EVERYONE[name], MEETING, "技术方案交流")
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
    missing = CliRunner().invoke(cli, ["brief", str(EXAMPLE_ZH), "-a", "ghost", "--date", "2026-11-25", "--purpose", "x"])
    assert missing.exit_code == 3 and "attendees: not contact ids of this deal: ghost" in missing.output
    client = TestClient(create_app(Settings()))
    params = {"attendees": "chen,li", "date": "2026-11-25", "purpose": "交流", "format": "markdown"}
    answer = client.post("/v1/brief", params=params, json=read_yaml(EXAMPLE_ZH))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/markdown") and "会前简报" in answer.text
    bad = client.post("/v1/brief", params={**params, "attendees": "ghost"}, json=read_yaml(EXAMPLE_ZH))
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "attendees"
