"""Playbooks: the shipped one is complete in both languages; a company's directory overrides it."""

from __future__ import annotations

import re

import pytest

import dealcoach
from dealcoach import PlaybookError
from dealcoach.engine.playbook import DEFAULT_DIR, load_playbook
from dealcoach.engine.rendering import Renderer
from dealcoach.rules import catalog

from helpers import EXAMPLE_ZH, ROOT


def test_term_tables_have_the_same_keys_in_both_languages() -> None:
    book = load_playbook()
    base = {lang: {key.split("#")[0] for key in book.terms[lang]} for lang in ("zh", "en")}
    assert base["zh"] == base["en"]  # plural forms (`key#one`) aside, both languages have every term
    assert all(key.split("#")[0] in book.terms[lang] for lang in ("zh", "en") for key in book.terms[lang])


def test_every_finding_has_a_template_per_language_and_nothing_else() -> None:
    for lang in ("zh", "en"):
        names = {p.stem for p in (DEFAULT_DIR / "templates" / "findings" / lang).glob("*.j2")}
        assert names == set(catalog().findings), lang


def test_every_term_a_template_or_the_code_uses_exists() -> None:
    """term('kind', ...) calls in templates and every vocabulary value resolve in both term tables."""
    from dealcoach.engine import vocabulary

    book = load_playbook()
    needed = {f"role.{v.value}" for v in vocabulary.Role}
    needed |= {f"power.{v.value}" for v in vocabulary.PowerCircle}
    needed |= {f"stance.{v.value}" for v in vocabulary.Stance}
    needed |= {f"supporter.{v.value}" for v in vocabulary.SupporterKind}
    needed |= {f"caveat.{v.value}" for v in vocabulary.CoachCaveat}
    needed |= {f"derived.{name}" for name in catalog().derivations}
    for lang in ("zh", "en"):
        missing = needed - set(book.terms[lang])
        assert not missing, (lang, missing)
        for path in (DEFAULT_DIR / "templates" / "findings" / lang).glob("*.j2"):
            for kind in re.findall(r"terms?\('(\w+)'", path.read_text(encoding="utf-8")):
                assert any(key.startswith(f"{kind}.") for key in book.terms[lang]), (path.name, kind)
        # literal keys in the layout templates (t("...")) and in the code (term(lang, "..."), t("..."))
        sources = [*(DEFAULT_DIR / "templates" / "report").rglob("*.j2"), *(ROOT / "engine").glob("*.py")]
        for path in sources:
            for key in re.findall(r"""\bt(?:erm)?\((?:lang, )?["']([a-z_]+\.[a-z_.0-9]+)["']""", path.read_text(encoding="utf-8")):
                assert key in book.terms[lang], (path.name, key, lang)


def test_both_stage_models_ship() -> None:
    models = load_playbook().stage_models
    assert [s.id for s in models["standard-6"].stages] == [
        "development", "sales_entry", "proposal", "bidding", "negotiation", "implementation"
    ]
    assert len(models["lead-to-contract-5"].stages) == 5
    assert all(stage.milestones for model in models.values() for stage in model.stages)


def _company_playbook(tmp_path):
    root = tmp_path / "acme"
    (root / "stage_models").mkdir(parents=True)
    (root / "terms").mkdir()
    (root / "templates" / "findings" / "en").mkdir(parents=True)
    (root / "playbook.yaml").write_text("thresholds:\n  key_person_stale_days: 400\n", encoding="utf-8")
    (root / "terms" / "en.yaml").write_text('review.block: "SHOWSTOPPER: "\n', encoding="utf-8")
    (root / "templates" / "findings" / "en" / "DC102.j2").write_text(
        "{% block title %}ACME: stage {{ deal.stage }} is ahead{% endblock %}"
        "{% block why %}Our rule book says so.{% endblock %}{% block action %}Fix the stage.{% endblock %}"
        "{% block clears %}When the stage matches.{% endblock %}",
        encoding="utf-8",
    )
    (root / "stage_models" / "acme-3.yaml").write_text(
        """id: acme-3
section: M2
name: {zh: 三步法, en: Three steps}
stages:
  - id: qualify
    name: {zh: 资格确认, en: Qualify}
    buying_step: {id: need, name: {zh: 有需求, en: Need}}
    milestones: [{id: budget_seen, name: {zh: 见到预算, en: Budget seen}}]
  - id: propose
    name: {zh: 方案, en: Propose}
    buying_step: {id: compare, name: {zh: 比较, en: Compare}}
    milestones: [{id: preferred, name: {zh: 首选, en: Preferred}}]
  - id: close
    name: {zh: 成交, en: Close}
    buying_step: {id: sign, name: {zh: 签约, en: Sign}}
    milestones: [{id: signed, name: {zh: 签约, en: Signed}}]
""",
        encoding="utf-8",
    )
    return root


def test_company_playbook_overrides_thresholds_terms_templates_and_stages(tmp_path, deal: dict) -> None:
    root = _company_playbook(tmp_path)
    deal["contacts"] = [{"id": "a", "name": "陈总", "roles": ["decision_maker"], "last_contact": "2026-01-01"}]
    assert "DC303" in [f.code for f in dealcoach.review(deal).findings]
    assert "DC303" not in [f.code for f in dealcoach.review(deal, playbook=root).findings]

    deal.update(stage_model="acme-3", stage="propose", buying_step="need", milestones=[])
    report = dealcoach.review(deal, playbook=root)
    assert "DC102" in {f.code for f in report.findings} and "DC104" in {s.code for s in report.suppressed}
    text = dealcoach.render_text(report, lang="en", playbook=root)
    assert "SHOWSTOPPER: ACME: stage Propose is ahead" in text
    assert "Next milestone: Preferred" in text  # the company's own stage model names the milestone
    gate = dealcoach.gate(deal, "close", playbook=root)
    assert not gate.allowed and [m.id for m in gate.unmet_milestones] == ["budget_seen", "preferred"]


def test_a_company_template_without_a_short_name_keeps_the_shipped_one(tmp_path) -> None:
    root = _company_playbook(tmp_path)  # its DC102 template has title, why, action and clears only
    renderer = dealcoach.engine.api.coach(root).renderer
    assert renderer.short_name("DC102", "en") == dealcoach.engine.api.coach().renderer.short_name("DC102", "en")


def test_a_company_playbook_replaces_the_review_layout(tmp_path, deal: dict) -> None:
    """The report around the findings is a playbook template too: a company may lay it out its own way."""
    root = tmp_path / "acme"
    (root / "templates" / "report" / "en").mkdir(parents=True)
    (root / "templates" / "report" / "en" / "review.j2").write_text(
        "ACME REVIEW {{ report.deal_id }}\n{% for card in cards %}* {{ card.text.first }}\n{% endfor %}", encoding="utf-8"
    )
    report = dealcoach.review(deal, playbook=root)
    text = dealcoach.render_text(report, lang="en", playbook=root)
    assert text.startswith(f"ACME REVIEW {deal['id']}\n* ")
    assert dealcoach.render_text(report, lang="zh", playbook=root).startswith(deal["name"])  # zh layout not replaced


def test_report_version_changes_with_the_playbook(tmp_path, deal: dict) -> None:
    assert dealcoach.review(deal).ruleset_version != dealcoach.review(deal, playbook=_company_playbook(tmp_path)).ruleset_version


@pytest.mark.parametrize(
    "path,content,expected",
    [
        ("playbook.yaml", "thresholds:\n  key_person_stale_days: -3\n", "key_person_stale_days"),
        ("playbook.yaml", "thresholds:\n  unknown_knob: 3\n", "unknown_knob"),
        ("stage_models/bad.yaml", "id: bad\nsection: M2\nname: {zh: 坏, en: Bad}\nstages: []\n", "stages"),
        ("stage_models/bad.yaml", "id: [unclosed\n", "cannot read playbook file"),
        ("terms/zh.yaml", "- not a mapping\n", "flat mapping"),
    ],
)
def test_invalid_playbooks_name_the_file(tmp_path, path: str, content: str, expected: str) -> None:
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        load_playbook(tmp_path)
    assert str(target) in str(caught.value) and expected in str(caught.value)


def test_template_without_a_block_is_an_error(tmp_path) -> None:
    folder = tmp_path / "templates" / "findings" / "zh"
    folder.mkdir(parents=True)
    (folder / "DC102.j2").write_text("{% block title %}x{% endblock %}", encoding="utf-8")
    data = dealcoach.review(str(EXAMPLE_ZH))  # any report with DC102
    with pytest.raises(PlaybookError, match="has no block 'why'"):
        dealcoach.render_text(data, lang="zh", playbook=tmp_path)


def test_missing_term_is_an_error() -> None:
    with pytest.raises(PlaybookError, match="term 'stance.furious' is missing from the en term table"):
        Renderer(load_playbook()).term("en", "stance.furious")


def _one_template(tmp_path, body: str):
    folder = tmp_path / "templates" / "findings" / "zh"
    folder.mkdir(parents=True)
    (folder / "DC102.j2").write_text(
        "{% block title %}" + body + "{% endblock %}{% block why %}x{% endblock %}{% block action %}x{% endblock %}"
        "{% block clears %}x{% endblock %}",
        encoding="utf-8",
    )
    return tmp_path


@pytest.mark.parametrize(
    "body,expected",
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "not allowed in a template"),
        ("{{ term.__globals__ }}", "not allowed in a template"),
        ("{% include '../../../../../../etc/passwd' %}", "which is not in the playbook"),
        ("{% include '/etc/passwd' %}", "which is not in the playbook"),
    ],
)
def test_company_templates_are_sandboxed(tmp_path, body: str, expected: str) -> None:
    playbook = _one_template(tmp_path, body)
    with pytest.raises(PlaybookError, match=expected):
        dealcoach.render_text(dealcoach.review(str(EXAMPLE_ZH)), lang="zh", playbook=playbook)


def test_broken_template_names_file_and_line(tmp_path) -> None:
    playbook = _one_template(tmp_path, "{% if %}")
    with pytest.raises(PlaybookError, match=r"DC102\.j2, line 1: "):
        dealcoach.render_text(dealcoach.review(str(EXAMPLE_ZH)), lang="zh", playbook=playbook)


def test_markdown_keeps_a_script_tag_as_text(deal: dict) -> None:
    deal["contacts"] = [{"id": "x", "name": "<script>alert(1)</script>", "roles": ["technical_gatekeeper"], "stance": "opposes"}]
    text = dealcoach.render(dealcoach.review(deal), lang="en", fmt="markdown")
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
