"""What company rules cost: review throughput, playbook load and scenario tests, side by side in one run.

    python benchmarks/company_rules.py                  # 1,000 generated deals, 3 passes each
    python benchmarks/company_rules.py --deals 3000 --repeat 5

Sections:
  throughput  review -> JSON deals/s on one core with the shipped playbook (the baseline), the example company
              playbook (3 company rules, 1 tuned) and generated playbooks of 50 and 200 company rules; passes
              interleaved so a noisy machine disturbs each alike
  load        loading a playbook and compiling its rules into the engine, for 0, 50 and 200 company rules
  scenarios   `dealcoach test` of the example playbook: scenarios/s with and without --coverage probes
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import yaml  # noqa: E402

import dealcoach  # noqa: E402
from dealcoach.engine.coach import Coach  # noqa: E402
from dealcoach.engine.evaluation import compiled  # noqa: E402
from dealcoach.engine.playbook import load_playbook  # noqa: E402
from dealcoach.engine.scenarios import Runner, scenario_files  # noqa: E402

EXAMPLE_PLAYBOOK = HERE.parent / "examples" / "company-playbook"
TEMPLATE = ("{% block short %}s{% endblock %}{% block title %}t{% endblock %}{% block why %}w{% endblock %}"
            "{% block action %}a{% endblock %}{% block clears %}c{% endblock %}{% block item %}i{% endblock %}{% block first %}f{% endblock %}")
CONDITIONS = [  # a mix like a company's: deal tests, a count, alternatives, a contact rule
    {"customer.state_owned": True, "amount": {"at_least": 2000000}},
    {"all": [{"budget.evidence": {"in": ["our_estimate", "none"]}}, {"not": {"stage": "development"}}]},
    {"count": "contacts", "where": {"power": {"at_least": "political"}, "stance": "supports"}, "is": 0},
    {"any": [{"days_to_close": {"at_most": 60}}, {"competitors": {"at_least": 3}}]},
    {"price_pressure.concession_requested": True, "competitors": 0},
]
CONTACT_CONDITION = {"contact.stance": "opposes", "contact.role": {"in": ["decision_maker", "technical_gatekeeper"]}}


def generated_playbook(directory: Path, rules: int) -> Path:
    """A company playbook with `rules` company rules cycling through CONDITIONS (every fifth about each contact)."""
    company = []
    for index in range(rules):
        contact = index % 5 == 4
        company.append({
            "code": f"GB{index:03d}", "symbol": f"generated-{index}", "kind": "risk", "severity": "warn",
            "summary": "generated", "rationale": "generated", "subject": "contact" if contact else "deal",
            "when": CONTACT_CONDITION if contact else CONDITIONS[index % 5],
        })
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "playbook.yaml").write_text(yaml.safe_dump({"company_rules": company}, allow_unicode=True), encoding="utf-8")
    for language in ("zh", "en"):
        folder = directory / "templates" / "findings" / language
        folder.mkdir(parents=True, exist_ok=True)
        for rule in company:
            (folder / f"{rule['code']}.j2").write_text(TEMPLATE, encoding="utf-8")
    return directory


def throughput(raw: list[dict], repeat: int, playbooks: dict[str, Path | None]) -> None:
    coaches = {name: Coach(load_playbook(path)) for name, path in playbooks.items()}
    deals = {name: [coach.deal(d) for d in raw] for name, coach in coaches.items()}
    for coach in coaches.values():  # compile before timing
        coach.review(deals["shipped"][0])
    best = dict.fromkeys(coaches, 0.0)
    for _ in range(repeat):
        for name, coach in coaches.items():
            start = time.perf_counter()
            for deal in deals[name]:
                coach.render(coach.review(deal), fmt="json")
            best[name] = max(best[name], len(raw) / (time.perf_counter() - start))
    base = best["shipped"]
    for name, rate in best.items():
        rules = len(coaches[name].rulebook.findings)
        print(f"  {name:<22} {rate:8.1f} deals/s   {rate / base:5.2f}x the shipped playbook   ({rules} finding rules)")


def load(playbooks: dict[str, Path | None], repeat: int) -> None:
    for name, path in playbooks.items():
        best = float("inf")
        for _ in range(repeat):
            compiled.cache_clear()
            start = time.perf_counter()
            coach = Coach(load_playbook(path))
            compiled(coach.rulebook, coach.playbook.thresholds)
            best = min(best, time.perf_counter() - start)
        print(f"  {name:<22} {best * 1000:8.1f} ms to load the playbook and compile its rules")


def scenarios(repeat: int) -> None:
    coach = Coach(load_playbook(EXAMPLE_PLAYBOOK))
    files = scenario_files(EXAMPLE_PLAYBOOK, ())
    for label, with_probes in (("without coverage", False), ("with coverage", True)):
        best = 0.0
        for _ in range(repeat):
            runner = Runner(coach)
            if not with_probes:
                runner.probes.books = []
            start = time.perf_counter()
            count = sum(len(runner.run_file(path)) for path in files)
            best = max(best, count / (time.perf_counter() - start))
        print(f"  {label:<22} {best:8.1f} scenarios/s ({count} scenarios, each reviewed, gated when asked, rendered zh+en)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"dealcoach {dealcoach.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.deals} deals")
    with tempfile.TemporaryDirectory() as folder:
        playbooks = {
            "shipped": None,
            "example company": EXAMPLE_PLAYBOOK,
            "50 company rules": generated_playbook(Path(folder) / "fifty", 50),
            "200 company rules": generated_playbook(Path(folder) / "two-hundred", 200),
        }
        print("throughput (review -> JSON, one process):")
        throughput(generate.deals(args.deals), args.repeat, playbooks)
        print("load:")
        load(playbooks, args.repeat)
    print("scenarios:")
    scenarios(args.repeat)


if __name__ == "__main__":
    main()
