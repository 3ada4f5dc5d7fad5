"""What reading Salesforce, HubSpot and Odoo answers and planning the write-back cost, side by side in one run.

    python benchmarks/crm_responses.py            # 200-record answers, best of 10 passes

For each CRM, the recorded answer in examples/crm is grown to --records deals (each with its own contacts and
associations) and timed:
  parse     only json.loads of the answer: the floor any reader pays
  convert   the answer → deal documents (crm.convert.records), and its ratio to parse
  review    reviewing the documents (the engine), for scale
  plan      the write-back requests of each reviewed deal (crm.writeback: note, fields, tasks), and its ratio to review
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

from chat_and_crm_pages import timed  # best of n passes, as in the other CRM benchmark
from dealcoach.crm import load_mapping
from dealcoach.crm.convert import records
from dealcoach.crm.writeback import coaching, plan
from dealcoach.engine import api

CRM = Path(__file__).resolve().parent.parent / "examples" / "crm"
FILES = {"salesforce": "salesforce-query.json", "hubspot": "hubspot-page.json", "odoo": "odoo-search-read.json"}


def grown(kind: str, size: int) -> object:
    """The recorded answer with `size` deals, copies of the open ones under new ids."""
    data = json.loads((CRM / FILES[kind]).read_text(encoding="utf-8"))
    if kind == "salesforce":
        base = data["records"][:2]
        data["records"] = [dict(copy.deepcopy(base[n % 2]), Id=f"0065g{n:013d}") for n in range(size)]
        data["totalSize"] = size
    elif kind == "odoo":
        base = data["result"][:3]
        data["result"] = [dict(copy.deepcopy(base[n % 3]), id=1000 + n) for n in range(size)]
    else:
        deals = data["deals"]["results"][:2]
        contact_rows = {row["from"]["id"]: row for row in data["contact_associations"]["results"]}
        company_rows = {row["from"]["id"]: row for row in data["company_associations"]["results"]}
        new_deals, contacts, companies = [], [], []
        for n in range(size):
            deal = copy.deepcopy(deals[n % 2])
            old, deal["id"] = deal["id"], str(30_000_000_000 + n)
            new_deals.append(deal)
            contacts.append({**contact_rows[old], "from": {"id": deal["id"]}})
            companies.append({**company_rows[old], "from": {"id": deal["id"]}})
        data["deals"]["results"] = new_deals
        data["contact_associations"]["results"] = contacts
        data["company_associations"]["results"] = companies
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--passes", type=int, default=10)
    arguments = parser.parse_args()
    coach = api.coach(None)
    size = arguments.records
    print(f"{size}-deal answers, best of {arguments.passes} passes (review and plan: best of 3)")
    print(f"  {'CRM':<11}{'parse':>12}{'convert':>12}{'ratio':>8}{'review':>12}{'plan':>12}{'plan/review':>13}")
    for kind in FILES:
        text = json.dumps(grown(kind, size), ensure_ascii=False)
        mapping = load_mapping(kind)
        page = records(kind, json.loads(text), as_of="2026-11-20", mapping=mapping)
        converted = [c for c in page if c.document]
        assert len(converted) == size, f"{kind}: {len(converted)} of {size} converted"
        parse = timed(lambda text=text: json.loads(text), arguments.passes)
        convert = timed(lambda text=text, kind=kind, mapping=mapping: records(kind, json.loads(text), as_of="2026-11-20", mapping=mapping),
                       arguments.passes)
        reports = [coach.review(c.document) for c in converted]
        review = timed(lambda converted=converted: [coach.review(c.document) for c in converted], 3)
        planning = timed(lambda kind=kind, mapping=mapping, converted=converted, reports=reports: [
            plan(kind, coaching(coach, r, kind, c.record_id, c.record, mapping), mapping) for c, r in zip(converted, reports, strict=True)], 3)
        print(f"  {kind:<11}{size / parse:>8,.0f} d/s{size / convert:>8,.0f} d/s{convert / parse:>7.1f}x"
              f"{size / review:>8,.0f} d/s{size / planning:>8,.0f} d/s{planning / review:>12.2f}x")


if __name__ == "__main__":
    main()
