"""Scaffold a new finding rule: its module, both language templates and its case file, in one step.

    python -m dealcoach.rules.scaffold DC611 deal-too-early --family qualification --section M6.1

Every file it writes is named by the code, so adding a rule touches nothing
else. Fill in the condition, the traits, the texts and the cases, then run
`pytest tests/test_rules.py -k DC611`.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from . import FAMILIES, catalog
from .retired import RETIRED

PACKAGE_ROOT = Path(__file__).resolve().parent.parent

MODULE = '''"""{code} {symbol} — one line: what the rule finds ({section}).

Why: the method's reason, in a sentence or two.
Clears when: the real-world change that settles it.
"""

from durable.lang import c, m, when_all

from ...engine.rulebook import FindingRule, Kind, PRE_SALE, Severity, Subject, Topic
from ..conditions import is_a


def _when(thresholds):
    return when_all(c.deal << is_a("deal") & (m.amount < 0))  # TODO: the condition


RULE = FindingRule(
    code="{code}",
    symbol="{symbol}",
    kind=Kind.RISK,
    severity=Severity.WARN,
    section="{section}",
    subject=Subject.DEAL,
    phases=PRE_SALE,
    topics=frozenset({{Topic.QUALIFICATION}}),
    clears_fields=("amount",),
    summary="One sentence: what the rule finds.",
    rationale="One sentence: why it matters.",
    when=_when,
)
'''

TEMPLATE = {
    "zh": """{{% block short %}}待写：简称{{% endblock %}}
{{% block title %}}待写：一句话说清情况{{% endblock %}}
{{% block why %}}待写：为什么要紧（方法依据 {section}）{{% endblock %}}
{{% block action %}}待写：谁，做什么，{{{{ by }}}}完成{{% endblock %}}
{{% block first %}}{{{{ by }}}}待写：第一步要做的事{{% endblock %}}
{{% block clears %}}待写：现实中发生了什么变化，这件事就算解决{{% endblock %}}
""",
    "en": """{{% block short %}}To write: short name{{% endblock %}}
{{% block title %}}To write: the situation in one line{{% endblock %}}
{{% block why %}}To write: why it matters (method {section}){{% endblock %}}
{{% block action %}}To write: who does what, {{{{ by }}}}{{% endblock %}}
{{% block first %}}{{{{ by|capitalize }}}}, to write: the first move{{% endblock %}}
{{% block clears %}}To write: the real-world change that settles it{{% endblock %}}
""",
}

CASES = """# {code} {symbol}: deals where it must fire and deals where it must not (on top of _base.yaml).
fires:
  - name: to write
    deal: {{amount: 100000}}
    clears: {{amount: 100000}}
silent:
  - name: to write
    deal: {{amount: 100000}}
"""


def scaffold(code: str, symbol: str, family: str, section: str, root: Path = PACKAGE_ROOT, tests: Path | None = None) -> list[Path]:
    """Write the four files of a new rule under `root` (the package) and `tests`; refuse a used or retired code."""
    if not re.fullmatch(r"DC\d{3}", code):
        raise ValueError(f"code {code!r} is not like DC611")
    if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", symbol):
        raise ValueError(f"symbol {symbol!r} is not kebab-case like deal-too-early")
    if not re.fullmatch(r"M\d+(\.\d+)?", section):
        raise ValueError(f"section {section!r} is not like M6.1")
    if family not in FAMILIES:
        raise ValueError(f"family {family!r} is not one of {', '.join(FAMILIES)}")
    if code in catalog().findings:
        raise ValueError(f"{code} is already used by {catalog().findings[code].symbol}")
    if code in RETIRED:
        raise ValueError(f"{code} is retired ({RETIRED[code]}); codes are never reused")
    tests = tests or root / "tests"
    values = {"code": code, "symbol": symbol, "section": section}
    files = {
        root / "rules" / family / f"{code.lower()}_{symbol.replace('-', '_')}.py": MODULE.format(**values),
        root / "playbooks" / "default" / "templates" / "findings" / "zh" / f"{code}.j2": TEMPLATE["zh"].format(**values),
        root / "playbooks" / "default" / "templates" / "findings" / "en" / f"{code}.j2": TEMPLATE["en"].format(**values),
        tests / "rule_cases" / f"{code}.yaml": CASES.format(**values),
    }
    existing = [path for path in files if path.exists()]
    if existing:
        raise ValueError(f"would overwrite {', '.join(map(str, existing))}")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dealcoach.rules.scaffold", description=__doc__.split("\n\n")[0])
    parser.add_argument("code", help="a new finding code, e.g. DC611")
    parser.add_argument("symbol", help="kebab-case name, e.g. deal-too-early")
    parser.add_argument("--family", required=True, choices=FAMILIES)
    parser.add_argument("--section", required=True, help="the method section it encodes, e.g. M6.1")
    args = parser.parse_args(argv)
    try:
        written = scaffold(args.code, args.symbol, args.family, args.section)
    except ValueError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
