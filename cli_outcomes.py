"""Commands on how deals ended: outcome (record one), outcomes (the per-rule report, and import from CRM records)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from .cli import ISO_DATE, LANGUAGES, _echo, _label, _output, cli, playbook_option
from .engine import api
from .engine.wording import printable

REPORT_FORMATS = ("text", "markdown", "json", "html")
INVALID_INPUT = 3  # EXIT_CODES[3]: the input is unreadable or invalid, every problem listed
outcome_store_option = click.option(
    "--store", "store_location", metavar="PATH|URL",
    help="The decision log: a SQLite file, `default`, or postgresql://... (default: $DEALCOACH_STORE, else the default file).",
)


def _store(location: str | None):
    from .store.config import read_store

    return read_store(location)


@cli.command(short_help="Record how a deal ended: won or lost, on which day, and why.")
@click.argument("deal_id", metavar="DEAL_ID")
@click.option("--won", is_flag=True, help="The deal was won.")
@click.option("--lost", is_flag=True, help="The deal was lost.")
@click.option("--closed-on", type=ISO_DATE, required=True, help="The day it was won or lost.")
@click.option("--reason", metavar="TEXT", help="Why it was won or lost, in the rep's words.")
@outcome_store_option
def outcome(deal_id: str, won: bool, lost: bool, closed_on: dt.date, reason: str | None, store_location: str | None) -> None:
    """Record that DEAL_ID (the id its reviews were logged with) was won or lost on --closed-on, with an optional
    --reason, in the decision log. A second outcome for the same deal replaces the first. `dealcoach outcomes`
    reads them against what the reviews showed. Exit 2 for a bad argument, 9 when the log cannot be written."""
    from .store.outcomes import OutcomeInputError, record_changed

    if won == lost:
        raise click.UsageError("say how the deal ended: --won or --lost (one of them)")
    store = _store(store_location)
    try:
        recorded, changed = record_changed(store, {"deal_id": deal_id, "result": "won" if won else "lost", "closed_on": closed_on,
                                                   "reason": reason}, source="cli")
    except OutcomeInputError as error:
        problem = error.problems[0]
        name = {"deal_id": "DEAL_ID", "reason": "--reason", "closed_on": "--closed-on"}.get(problem.path, problem.path)
        raise click.BadParameter(problem.message, param_hint=name) from None
    state = "recorded" if changed else "already recorded"
    _echo(printable(f"{state}: {recorded.deal_id} {recorded.result} on {recorded.closed_on}"
                    + (f" ({recorded.reason})" if recorded.reason else "") + f" in {store.url}"))


@cli.group(invoke_without_command=True, short_help="Which rules foretold a loss: each rule's loss rates on deals later won or lost.")
@click.option("--since", type=ISO_DATE, help="Only deals closed on or after this day.")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="text", show_default=True,
              help="Output format; html is one self-contained page with a chart (needs the charts extra).")
@click.option("--lang", type=click.Choice(LANGUAGES), default="zh", show_default=True, help="Output language.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the report here (default: stdout).")
@click.option("--min-deals", type=click.IntRange(2, 1_000_000), default=30, show_default=True,
              help="Deals with an outcome needed before any rule is judged (a third of it, at most 10, won and as many lost).")
@outcome_store_option
@playbook_option
@click.pass_context
def outcomes(ctx: click.Context, since: dt.date | None, fmt: str, lang: str, output: str | None, min_deals: int,
             store_location: str | None, playbook: Path | None) -> None:
    """Read the outcomes (`dealcoach outcome`, `dealcoach outcomes import`) against what the logged reviews showed:
    per rule, the loss rate of deals that showed it and of those that did not, with Wilson intervals; their
    difference (Newcombe's interval) and ratio (Katz's); the stage where it first showed; whether clearing it
    before the end lowered losses. Rules that foretell losses, rules that do not separate won from lost, and
    thresholds worth revisiting are named. Below --min-deals deals (30 by default, a third of them won and a
    third lost, at most 10 each) it says "not enough outcomes yet" and only counts (README "Outcomes")."""
    if ctx.invoked_subcommand is not None:
        return
    from .store.outcomes import Minimums, report
    from .store.outcomes_rendering import render

    coach = api.coach(playbook)
    found = report(_store(store_location), coach, since=since, minimums=Minimums(deals=min_deals))
    text = render(found, coach, lang=lang, fmt=fmt)
    _output(text, output)


@outcomes.command("import", short_help="Record won and lost deals from a CRM's closed stages.")
@click.argument("source", metavar="INPUT")
@click.option("--from", "crm_kind", type=click.Choice(("salesforce", "hubspot", "odoo")), required=True,
              help="INPUT is this CRM's query response (or one record), as for `pipeline --from`.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False),
              help="A YAML file with `crm:` and a `closed:` section, for stages renamed in your CRM (default: the CRM's standard ones).")
@click.option("--dry-run", is_flag=True, help="Print the outcomes found without recording them.")
@outcome_store_option
def import_outcomes(source: str, crm_kind: str, mapping: str | None, dry_run: bool, store_location: str | None) -> None:
    """Record the won and lost deals of a Salesforce, HubSpot or Odoo query response (INPUT, or - for standard
    input): Salesforce IsWon / IsClosed (or StageName Closed Won / Closed Lost) with CloseDate; HubSpot
    hs_is_closed_won / hs_is_closed (or dealstage closedwon / closedlost) with closedate and closed_lost_reason;
    Odoo won_status (or stage Won at 100 %, archived at 0 %) with date_closed and lost_reason_id. Open records
    are counted and left alone. One JSON line per outcome on stdout; a summary on stderr. Exit 3 when the input
    is not the CRM's records or a closed record has no close date (the others are recorded)."""
    from .crm.outcomes import closed_outcomes, load_closed
    from .engine.loading import read_document

    closed = load_closed(crm_kind, mapping)
    label = _label(source)
    found = closed_outcomes(crm_kind, read_document(source), closed=closed, source=label)
    store = None if dry_run else _store(store_location)
    changed = 0
    for ended in found.outcomes:
        fresh = store.record_outcome(ended) if store is not None else None
        changed += bool(fresh)
        line = {"deal_id": ended.deal_id, "result": ended.result, "closed_on": ended.closed_on.isoformat(), "reason": ended.reason}
        _echo(json.dumps(line if fresh is None else {**line, "changed": fresh}, ensure_ascii=False))
    for note in found.notes:
        _echo(printable(f"note: {label}: {note}"), err=True)
    won = sum(1 for o in found.outcomes if o.result == "won")
    where = "found (dry run, nothing recorded)" if store is None else f"recorded in {store.url} ({changed} new or changed)"
    count = len(found.outcomes)
    _echo(printable(f"{label}: {count} outcome{'' if count == 1 else 's'} {where}: {won} won, {count - won} lost; "
                    f"{len(found.open)} record{'' if len(found.open) == 1 else 's'} still open"), err=True)
    for problem in found.problems:
        _echo(printable(f"not recorded: {label}: {problem}"), err=True)
    if found.problems:
        raise click.exceptions.Exit(INVALID_INPUT)
