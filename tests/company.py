"""Writing company playbooks for tests: playbook.yaml with rules, and plain templates for each company rule."""

from __future__ import annotations

from pathlib import Path

import yaml

BLOCKS = {
    "zh": "{{% block short %}}{code}简称{{% endblock %}}\n{{% block title %}}{code}标题{{% endblock %}}\n"
          "{{% block why %}}{code}的原因。{{% endblock %}}\n{{% block action %}}{code}的做法。{{% endblock %}}\n"
          "{{% block first %}}{code}先做{{% endblock %}}\n{{% block clears %}}{code}解除。{{% endblock %}}\n"
          "{{% block question %}}{code}要问的问题？{{% endblock %}}\n{{% block item %}}{code}条目{{% endblock %}}\n",
    "en": "{{% block short %}}{code} short{{% endblock %}}\n{{% block title %}}{code} title{{% endblock %}}\n"
          "{{% block why %}}{code} why.{{% endblock %}}\n{{% block action %}}{code} action.{{% endblock %}}\n"
          "{{% block first %}}{code} first{{% endblock %}}\n{{% block clears %}}{code} clears.{{% endblock %}}\n"
          "{{% block question %}}{code} question?{{% endblock %}}\n{{% block item %}}{code} item{{% endblock %}}\n",
}


def rule(code: str, when: object, **traits: object) -> dict:
    """A company rule with every required field; `traits` add or replace fields."""
    return {"code": code, "symbol": code.lower() + "-rule", "kind": "risk", "severity": "warn", "summary": f"{code} summary",
            "rationale": f"{code} rationale", "when": when, **traits}


def write_playbook(directory: Path, settings: dict | str, templates: tuple[str, ...] | None = None) -> Path:
    """A company playbook in `directory`: playbook.yaml from `settings` (a mapping, or YAML text as written) and plain
    templates for `templates` (default: every company rule's code in `settings`)."""
    directory.mkdir(parents=True, exist_ok=True)
    text = settings if isinstance(settings, str) else yaml.safe_dump(settings, allow_unicode=True, sort_keys=False)
    (directory / "playbook.yaml").write_text(text, encoding="utf-8")
    if templates is None:
        data = settings if isinstance(settings, dict) else {}
        templates = tuple(r["code"] for r in data.get("company_rules") or () if isinstance(r, dict) and "code" in r)
    for code in templates:
        for language, body in BLOCKS.items():
            folder = directory / "templates" / "findings" / language
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{code}.j2").write_text(body.format(code=code), encoding="utf-8")
    return directory
