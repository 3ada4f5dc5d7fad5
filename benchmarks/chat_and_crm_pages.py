"""What reading CRM pages and fitting chat messages cost, and how full the messages are, side by side in one run.

    python benchmarks/chat_and_crm_pages.py            # a 100-record 纷享销客 and 销售易 page, 20 passes

Sections:
  pages     records/s converting a 100-record query response (with contacts and competitors) into deal documents,
            against the baseline of only parsing the same response's JSON, and against reviewing the deals
  messages  every bundled example's review and brief as sent to each chat: bytes against the platform's limit,
            whether it had to be trimmed, and the time to convert and fit one message
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from functools import partial
from pathlib import Path

import dealcoach
from dealcoach.chat.fitting import fit
from dealcoach.chat.platforms import PLATFORMS, title_of
from dealcoach.crm import load_mapping
from dealcoach.crm.convert import records
from dealcoach.engine import api

ROOT = Path(__file__).resolve().parent.parent
CRM = ROOT / "examples" / "crm"


def big_page(kind: str, size: int) -> dict:
    """The worked example's page grown to `size` opportunities, each with its own contacts and competitors."""
    page = json.loads((CRM / f"{kind}-page.json").read_text(encoding="utf-8"))
    key, ident = ("dataList", "_id") if kind == "fxiaoke" else ("records", "id")
    link = "new_opportunity_id" if kind == "fxiaoke" else "opportunityId"
    base = page["opportunities"]["data"][key][:2]
    parts = {part: page[part]["data"][key] for part in ("contacts", "competitors") if part in page}
    grown = {part: [] for part in ["opportunities", *parts]}
    for n in range(size):
        record = copy.deepcopy(base[n % 2])
        old, record[ident] = record[ident], f"{record[ident]}-{n}"
        grown["opportunities"].append(record)
        for part, rows in parts.items():
            for row in rows:
                if str(row[link]) == str(old):
                    grown[part].append({**row, link: record[ident]})
    envelope = {k: v for k, v in page["opportunities"].items() if k != "data"}
    return {part: {**envelope, "data": {key: rows}} for part, rows in grown.items()}


def timed(work, passes: int) -> float:
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def pages(size: int, passes: int) -> None:
    print(f"pages: {size}-record query responses, best of {passes} passes")
    print(f"  {'CRM':<8}{'parse JSON':>14}{'convert':>14}{'ratio':>8}{'review':>14}")
    for kind in ("fxiaoke", "neocrm"):
        text = json.dumps(big_page(kind, size), ensure_ascii=False)
        mapping = load_mapping(kind, CRM / f"{kind}-mapping.yaml")
        def read(text=text, kind=kind, mapping=mapping):
            return records(kind, json.loads(text), as_of="2026-11-20", mapping=mapping)

        parse = timed(partial(json.loads, text), passes)
        convert = timed(read, passes)
        documents = [c.document for c in read() if c.document]
        review = timed(lambda documents=documents: [dealcoach.review(d) for d in documents], 1)
        print(f"  {kind:<8}{size / parse:>10,.0f} r/s{size / convert:>10,.0f} r/s{convert / parse:>7.1f}x"
              f"{len(documents) / review:>10,.0f} d/s")


def messages(passes: int) -> None:
    coach = api.coach(None)
    print("\nmessages: bytes as sent / the platform's limit (T = trimmed to fit); ms to convert and fit")
    print(f"  {'example':<44}{'what':<8}" + "".join(f"{name:>18}" for name in PLATFORMS))
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        deal = coach.deal(str(path))
        lang = "zh" if path.name.count(".zh.") else "en"
        review = coach.render(coach.review(deal), lang=lang, fmt="markdown", sent=True)
        people = [c.id for c in deal.contacts[:2]]
        brief = coach.render_brief(coach.brief(deal, people, deal.as_of, "negotiation"), lang=lang, fmt="markdown")
        for what, markdown in (("review", review), ("brief", brief)):
            cells = []
            for platform in PLATFORMS.values():
                fitted = fit(platform, title_of(markdown), markdown, lang)
                seconds = timed(partial(fit, platform, title_of(markdown), markdown, lang), passes)
                cells.append(f"{fitted.size:>6}/{platform.limit_bytes:<6}{'T' if fitted.trimmed else ' '}{seconds * 1000:>4.1f}")
            print(f"  {path.name:<44}{what:<8}" + "".join(f"{cell:>18}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--passes", type=int, default=20)
    arguments = parser.parse_args()
    pages(arguments.records, arguments.passes)
    messages(arguments.passes)


if __name__ == "__main__":
    main()
