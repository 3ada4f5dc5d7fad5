"""Commands on the decision log: history, replay, diff-rules, forget."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .cli import ISO_DATE, LANGUAGES, _echo, _output, cli, playbook_option
from .engine import api
from .engine.wording import language_of

LOG_FORMATS = ("text", "markdown", "json")
read_store_option = click.option(
    "--store", "store_location", metavar="PATH|URL",
    help="The decision log to read: a SQLite file, `default`, or postgresql://... (default: $DEALCOACH_STORE, else the default file).",
)
log_format_option = click.option("--format", "fmt", type=click.Choice(LOG_FORMATS), default="text", show_default=True, help="Output format.")
log_lang_option = click.option("--lang", type=click.Choice(LANGUAGES), default=None,
                               help="Output language (default: the deal's own, Chinese when its name is written in Chinese).")


def _store(location: str | None):
    from .store.config import read_store

    return read_store(location)


def _people(deal: dict) -> dict[str, str]:
    """Whom findings are about, by subject id: contacts and competitors by name, as the rep calls them."""
    named = {c["id"]: c.get("name") or c["id"] for c in deal.get("contacts", []) if isinstance(c, dict) and "id" in c}
    named.update({f"competitor:{index}": c["name"] for index, c in enumerate(deal.get("competitors", [])) if isinstance(c, dict) and c.get("name")})
    return named


def _log_renderer(coach):
    from .store.log_rendering import LogRenderer

    stages = {stage.id: stage.name.model_dump() for model in coach.playbook.stage_models.values() for stage in model.stages}
    return LogRenderer(coach.renderer, stages)


@cli.command(short_help="A deal's history from the decision log: moves, risks appearing and clearing, days per stage.")
@click.argument("deal_id", metavar="DEAL_ID")
@log_format_option
@log_lang_option
@read_store_option
@playbook_option
def history(deal_id: str, fmt: str, lang: str | None, store_location: str | None, playbook: Path | None) -> None:
    """The timeline of DEAL_ID from every logged review and gate: stage and buying-step moves, grade changes,
    risks appearing and clearing, gates asked, days at each stage, the risks still open, and how it ended."""
    from .store import StoreError
    from .store.history import history as build

    store = _store(store_location)
    decisions = store.deal_decisions(deal_id)
    if not decisions:
        raise StoreError(f"no decision of deal {deal_id!r} is logged in {store.url} (reviews are logged with --store or $DEALCOACH_STORE)")
    coach = api.coach(playbook)
    found = build(decisions, store.outcomes().get(deal_id), looks_at=coach.looks_at)
    language = lang or language_of([found.deal_name])
    _echo(_log_renderer(coach).history(found, language, fmt, _people(decisions[-1].deal)), nl=False)


@cli.command(short_help="Evaluate a logged decision again under today's rule set and show what differs.")
@click.argument("decision_id", metavar="DECISION_ID")
@log_format_option
@log_lang_option
@read_store_option
@playbook_option
def replay(decision_id: str, fmt: str, lang: str | None, store_location: str | None, playbook: Path | None) -> None:
    """Re-evaluate the deal of DECISION_ID as it was logged (a gate again as a gate) with the current rule set
    (or --playbook), and say whether the conclusions are the same: which findings appear, clear or change severity."""
    from .store import StoreError
    from .store.replay import replay as run

    store = _store(store_location)
    decision = store.decision(decision_id)
    if decision is None:
        raise StoreError(f"no decision {decision_id!r} is logged in {store.url}")
    coach = api.coach(playbook)
    done = run(coach, decision)
    report = done.result.report if hasattr(done.result, "report") else done.result
    language = lang or language_of([report.deal_name])
    review_text = "" if fmt == "json" else coach.render(done.result, lang=language, fmt=fmt)
    _echo(_log_renderer(coach).replay(done, language, fmt, _people(decision.deal), review_text), nl=False)


@cli.command("diff-rules", short_help="Try a new playbook on the logged deals: per rule, what would appear and clear, on which deals.")
@click.option("--playbook", "new_playbook", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The new company playbook directory to try.")
@click.option("--against", "current_playbook", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The playbook in use today (default: the shipped one).")
@click.option("--since", type=ISO_DATE, help="Only deals reviewed on or after this date (default: every logged deal).")
@log_format_option
@click.option("--lang", type=click.Choice(LANGUAGES), default="zh", show_default=True, help="Output language.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the comparison here (default: stdout).")
@read_store_option
def diff_rules(new_playbook: Path, current_playbook: Path | None, since: dt.date | None, fmt: str, lang: str, output: str | None,
               store_location: str | None) -> None:
    """Review the newest logged version of every deal (reviewed since --since) with the playbook in use and with
    the new one, and show per rule on which deals it would appear, clear or change severity — before a company
    rolls the new playbook out."""
    from .store.replay import diff_rules as compare

    store = _store(store_location)
    found = compare(api.coach(current_playbook), api.coach(new_playbook), store.latest_per_deal(since=since))
    text = _log_renderer(api.coach(new_playbook)).diff(found, lang, fmt, since.isoformat() if since else None)
    _output(text, output)


@cli.command(short_help="Remove a deal's logged decisions and outcome (personal data), or everything older than N days.")
@click.argument("deal_ids", nargs=-1, metavar="[DEAL_ID]...")
@click.option("--older-than", "older_than", type=click.IntRange(1, 100_000), metavar="DAYS",
              help="Remove every decision logged more than DAYS days ago instead.")
@read_store_option
def forget(deal_ids: tuple[str, ...], older_than: int | None, store_location: str | None) -> None:
    """Remove from the decision log everything about DEAL_ID (its decisions with the contacts' names, its findings,
    its outcome), or with --older-than every decision logged before then. Says how much was removed."""
    if bool(deal_ids) == (older_than is not None):
        raise click.UsageError("give the deals to forget (DEAL_ID ...) or --older-than DAYS, one of the two")
    store = _store(store_location)
    if older_than is not None:
        gone = store.purge(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=older_than))
        _echo(f"removed {gone} decision{'s' if gone != 1 else ''} logged more than {older_than} days ago from {store.url}")
        return
    for deal_id in deal_ids:
        gone = store.forget(deal_id)
        _echo(f"{deal_id}: removed {gone['decisions']} decisions and {gone['outcomes']} outcome{'s' if gone['outcomes'] != 1 else ''} "
              f"from {store.url}")
