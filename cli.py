"""The `dealcoach` command line. Exit codes are listed in EXIT_CODES and in the README."""

from __future__ import annotations

import datetime as dt
import errno
import functools
import io
import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .engine import api
from .engine.errors import DealcoachError, DealInputError, InputProblem
from .engine.coach import Coach, as_it_stood
from .engine.loading import open_for_reading, read_document
from .engine.model import Deal
from .engine.report import reports_in
from .engine.playbook import LANGUAGES, PURPOSES
from .engine.rendering import FORMATS
from .engine.wording import aligned, language_of, printable

if TYPE_CHECKING:
    from .engine.owner_digest import OwnerDigests

EXIT_CODES = {
    0: "success; for `gate`, the deal may advance; for `pipeline`, every deal was reviewed",
    1: "`gate`: the deal may not advance (unmet milestones or blocking risks); `test`: a scenario failed or could not run",
    2: "usage error: unknown option, missing argument, unknown stage for --to",
    3: "the deal file is unreadable or invalid (every problem is listed with its field path)",
    4: "the playbook directory, a stage model or a template is invalid",
    5: "internal error in a rule or in dealcoach itself (please report it)",
    6: "`pipeline` and `sync`: some deals could not be reviewed (their error records name the deal and the fields)",
    7: "the output could not be written (disk full, file too large): the error names the file; a results file keeps its complete lines",
    8: "`send`, --send or `sync`: some messages or CRM writes were not delivered (each is named on stderr with the "
       "platform's or CRM's answer); the command's own output was written",
    9: "the decision log (--store, $DEALCOACH_STORE) cannot be opened, read or written, or holds nothing for the deal or decision asked",
    130: "interrupted (Ctrl-C); every result already written is complete",
    141: "the program reading the output stopped early (e.g. `| head`): dealcoach stops quietly, as other command-line tools do",
}
GATE_BLOCKED = 1
SCENARIOS_FAILED = 1
INTERNAL_ERROR = 5
SOME_DEALS_FAILED = 6
OUTPUT_FAILED = 7
DELIVERY_FAILED = 8
INTERRUPTED = 130
MAX_MESSAGE_FILE = 1_000_000
PIPE_CLOSED = 141  # 128 + SIGPIPE, what a shell reports for a command stopped by a closed pipe
STDOUT = "standard output"

EXAMPLES = ("example-deal.zh.yaml", "example-deal.en.yaml")


class Failure(click.ClickException):
    """A DealcoachError shown as `Error: ...` on stderr with its documented exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def describe(error: DealcoachError) -> str:
    """One line for simple errors; a line per problem for invalid deals."""
    if isinstance(error, DealInputError):
        noun = "problem" if len(error.problems) == 1 else "problems"
        what = {
            "MappingFileError": "invalid mapping file", "MappingError": "invalid CRM record", "CrmAnswerError": "the CRM's answer is not records",
        }.get(type(error).__name__, "invalid deal")
        lines = [f"{error.source}: {what} ({len(error.problems)} {noun})"]
        lines += [f"  {problem}" for problem in error.problems]
        return printable("\n".join(lines))
    return printable(str(error))


class OutputFailure(Failure):
    """The output could not be written: names the file and the system's reason (exit 7)."""

    def __init__(self, target: str, error: OSError):
        super().__init__(f"cannot write to {target}: {error.strerror or error}", OUTPUT_FAILED)


def _discard(*streams) -> None:
    """Point these standard streams at /dev/null, so the interpreter's last flush of what could not be written is silent."""
    for stream in streams:
        try:
            descriptor = stream.fileno()
        except (AttributeError, OSError, ValueError):  # not a real file (e.g. captured by a test runner)
            continue
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, descriptor)
        os.close(null)


@contextmanager
def _writing(target: str):
    """An OSError while writing output becomes OutputFailure naming `target`; a closed pipe is left to the command group."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        if target == STDOUT:
            _discard(sys.stdout)
        raise OutputFailure(target, error) from None


def _write_all(stream, data: bytes) -> None:
    """Write every byte and flush: a binary stream may take only part of a write (a disk filling up, a reader
    leaving a pipe), and the text layer would drop the rest silently."""
    view = memoryview(data)
    while view:
        view = view[stream.write(view) or 0 :]
    stream.flush()


def _echo(text: str, nl: bool = True, err: bool = False) -> None:
    """Print to stdout (or stderr) whole; what cannot be written is exit 7 (or a quiet 141 for a closed pipe)."""
    stream = sys.stderr if err else sys.stdout
    binary = getattr(stream, "buffer", None)
    with _writing("standard error" if err else STDOUT):
        if stream is None:  # started with the stream closed (`>&-`): the output would be lost without a word
            raise OSError(errno.EBADF, "it is closed")
        if binary is None:
            click.echo(text, nl=nl, err=err)
            return
        stream.flush()
        _write_all(binary, (text + ("\n" if nl else "")).encode(getattr(stream, "encoding", None) or "utf-8", "backslashreplace"))


def _write_file(path: str, text: str) -> None:
    """Write a whole document to `path`. A regular file is replaced only once the new text is fully written, so a
    full disk leaves the old file (or none), never half a document; a device or pipe is written as it is."""
    target = Path(os.path.realpath(path))
    data = text.encode("utf-8", "backslashreplace")
    with _writing(path):
        if target.exists() and not target.is_file():
            with target.open("wb", buffering=0) as handle:
                _write_all(handle, data)
            return
        temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            with temporary.open("wb", buffering=0) as handle:
                _write_all(handle, data)
            if target.exists():
                shutil.copymode(target, temporary)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)


def _output(text: str, output: str | None) -> None:
    """`text` into the file --output names (saying so), else onto standard output."""
    if output:
        _write_file(output, text)
        _echo(f"wrote {output}")
    else:
        _echo(text, nl=False)


def _same_file(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


QUICK_EXIT_COMMANDS = frozenset({"gate", "review"})  # run once per deal by CRM hooks and scripts, from a fresh process
_quick_exit = False  # only the console script allows it (entry.main): in-process callers keep their interpreter


def allow_quick_exit() -> None:
    """Let a command of QUICK_EXIT_COMMANDS end the process as soon as its output is flushed (see _exit_at_once)."""
    global _quick_exit
    _quick_exit = True


def _exit_at_once(code: int) -> None:
    """End the process now, skipping the interpreter's teardown (freeing every object one by one: about 50 ms
    after a gate). Only once the command has finished and nothing is left to close: its output is flushed here,
    log handlers too; a decision log's connections are closed the usual way (the process then exits normally)."""
    if "dealcoach.store.log" in sys.modules:
        return
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with the descriptor closed
            continue
        try:
            stream.flush()
        except BrokenPipeError:
            _discard(sys.stdout, sys.stderr)
            code = PIPE_CLOSED
        except (OSError, ValueError):
            return  # the usual exit reports it
    if "logging" in sys.modules:
        sys.modules["logging"].shutdown()
    os._exit(code)


class _Commands(click.Group):
    """Maps dealcoach errors to their exit codes; never lets a traceback reach the user."""

    ran: str | None = None  # the command the last invocation ran

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode: bool = True, **extra):
        """click's standalone mode, with dealcoach's exit codes also outside a command (while arguments are parsed,
        or while an error is reported): Ctrl-C is 130 and "interrupted", never click's "Aborted!" and 1 (which means
        a blocked gate); a closed pipe on stdout or stderr is a quiet 141."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        if isinstance(sys.stdout, io.TextIOWrapper):
            sys.stdout.reconfigure(errors="backslashreplace")  # text no encoder accepts is shown escaped, never a crash
        try:
            try:
                code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            except (KeyboardInterrupt, click.exceptions.Abort):
                click.echo("interrupted", err=True)
                code = INTERRUPTED
            except click.exceptions.ClickException as error:
                error.show()
                code = error.exit_code
        except BrokenPipeError:
            _discard(sys.stdout, sys.stderr)
            code = PIPE_CLOSED
        code = code if isinstance(code, int) else 0
        if _quick_exit and self.ran in QUICK_EXIT_COMMANDS:
            _exit_at_once(code)
        sys.exit(code)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DealcoachError as error:
            raise Failure(describe(error), error.exit_code) from None
        except (KeyboardInterrupt, click.exceptions.Abort):
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(INTERRUPTED) from None
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other tools do
            _discard(sys.stdout)
            raise click.exceptions.Exit(PIPE_CLOSED) from None
        except (click.exceptions.ClickException, click.exceptions.Exit):
            raise
        except Exception as error:  # noqa: BLE001 - last line of defence, documented as exit 5
            raise Failure(f"internal error: {type(error).__name__}: {error}", INTERNAL_ERROR) from None
        finally:
            self.ran = ctx.invoked_subcommand


def _document(coach: Coach, source: str, as_of: dt.date | None, crm: CrmInput | None = None) -> dict:
    """A deal document from a file path or `-` (standard input); --as-of replaces the file's evaluation date.

    With --from, the file is a CRM record or query response, converted through the CRM's mapping.
    """
    if crm is None:
        document = coach.document(source)
        return as_it_stood(document, as_of) if as_of is not None else document
    from .crm import load_mapping
    from .crm.convert import RecordChoiceError

    if as_of is None:
        raise click.UsageError("--from needs --as-of: a CRM record has no evaluation date, and dealcoach never reads the clock")
    try:
        return coach.from_crm(
            crm.kind, read_document(source), as_of=as_of, mapping=load_mapping(crm.kind, crm.mapping), label=_label(source), choose=crm.record
        )
    except RecordChoiceError as error:
        hint = "choose one with --record ID or name, or review them all with `dealcoach pipeline --from`" if crm.record is None else ""
        raise click.UsageError(f"{error.source}: {error.problems[0].message}" + (f"; {hint}" if hint else "")) from None


def _label(source: str) -> str:
    return "<stdin>" if source == "-" else source


def _read(coach: Coach, source: str, as_of: dt.date | None, crm: CrmInput | None = None) -> Deal:
    """A validated deal from a file path or `-`."""
    return coach.deal(_document(coach, source, as_of, crm), label=_label(source))


@contextmanager
def json_input_errors(fmt: str):
    """With --format json, an invalid deal is answered as JSON on stdout (for CRMs), still with exit 3."""
    try:
        yield
    except DealInputError as error:
        if fmt != "json":
            raise
        _echo(json.dumps({"error": "invalid_deal", **error.as_dict()}, ensure_ascii=False, indent=2))
        raise click.exceptions.Exit(error.exit_code) from None


lang_option = click.option(
    "--lang", type=click.Choice(LANGUAGES), default=None,
    help="Output language (default: the deal's own, Chinese when its names are written in Chinese, else English).",
)
pipeline_lang_option = click.option(
    "--lang", type=click.Choice(LANGUAGES), default="zh", show_default=True, help="Language of the roll-up and of --with-text.",
)


def _language(lang: str | None, result) -> str:
    """The asked-for language, else the one the deal behind `result` is written in."""
    if lang:
        return lang
    report = reports_in(result)[0]
    return language_of([report.deal_name, report.customer, *(person.name for person in report.people)])


format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format."
)
class IsoDate(click.ParamType):
    """A calendar date written YYYY-MM-DD, with the reason when it is not one."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError as error:
            reason = "write it as YYYY-MM-DD" if str(error).startswith("Invalid isoformat") else str(error)
            self.fail(f"{value!r} is not a date: {reason}", param, ctx)


ISO_DATE = IsoDate()
as_of_option = click.option("--as-of", type=ISO_DATE, help="Evaluate as of this date instead of the file's as_of.")
CRM_KINDS = ("salesforce", "hubspot", "odoo", "fxiaoke", "neocrm")
WRITEBACK_CRMS = ("salesforce", "hubspot", "odoo")  # crm.writeback


@dataclass(frozen=True)
class CrmInput:
    """--from, --mapping and --record: the input is this CRM's record (or query response), read through a mapping."""

    kind: str
    mapping: str | None
    record: str | None


crm_options = [
    click.option(
        "--from", "crm_kind", type=click.Choice(CRM_KINDS),
        help="DEAL is this CRM's record or query response (see README \"CRM records\"); needs --as-of.",
    ),
    click.option("--mapping", type=click.Path(exists=True, dir_okay=False), help="Your CRM mapping file (default: the shipped one)."),
    click.option("--record", "record_choice", metavar="ID", help="The record to use when a query response holds several (its id or name)."),
]


channels_option = click.option(
    "--channels", "channels_path", type=click.Path(exists=True, dir_okay=False),
    help="Channels file (default: $DEALCOACH_CHANNELS, else ~/.config/dealcoach/channels.yaml).",
)
send_options = [
    click.option(
        "--send", "send_to", metavar="CHANNEL", multiple=True,
        help="Also send it to this group chat (a channel of the channels file, or wecom / dingtalk / feishu from the environment).",
    ),
    channels_option,
]


def with_send_options(command):
    for option in reversed(send_options):
        command = option(command)
    return command


def _channels(names: tuple[str, ...], channels_path: str | None) -> list:
    """The channels to send to, resolved before any work so a missing webhook or secret stops the command (exit 2)."""
    from .chat import channel_named

    return [channel_named(name, channels_path, warn=lambda line: click.echo(f"warning: {line}", err=True)) for name in names]


def _deliver(channels: list, messages: list) -> int:
    """Send every message to every channel; each outcome on stderr. The count of messages not delivered."""
    from .chat import Sender

    sender = Sender()
    failed = 0
    for channel in channels:
        for delivery in sender.send_all(channel, messages):
            _echo(printable(delivery.line()), err=True)
            failed += 0 if delivery.ok else 1
    return failed


def with_crm_options(command):
    """Add --from/--mapping/--record, handed to the command as one `crm` argument (None without --from)."""

    @functools.wraps(command)
    def with_crm(*args, crm_kind: str | None, mapping: str | None, record_choice: str | None, **kwargs):
        if crm_kind is None and (mapping or record_choice):
            raise click.UsageError(f"{'--mapping' if mapping else '--record'} reads a CRM record: add --from CRM")
        return command(*args, crm=CrmInput(crm_kind, mapping, record_choice) if crm_kind else None, **kwargs)

    for option in reversed(crm_options):
        with_crm = option(with_crm)
    return with_crm


store_option = click.option(
    "--store", "store_location", metavar="PATH|URL",
    help="Log each decision in this decision log: a SQLite file, `default`, or postgresql://... (default: $DEALCOACH_STORE; unset: not logged).",
)


def _log(location: str | None, coach: Coach, result, deal: Deal) -> None:
    """Write a review or gate to the configured decision log, if one is configured."""
    from .store import config as store_config

    chosen = store_config.configured(location)
    if chosen is None:
        return
    import uuid

    from .store import decision_of

    store = store_config.store_for(chosen)
    decision_id = str(uuid.uuid4())
    store.record(decision_of(result, deal, decision_id=decision_id, caller=store_config.cli_caller(),
                             playbook_digest=coach.playbook.version_tag))
    click.echo(f"logged: decision {decision_id} in {store.url}", err=True)  # what `dealcoach replay` takes


def _record_closed(location: str | None, crm: str, data, source: str, record_choice: str | None = None) -> None:
    """Record the outcome of each won or lost record of a CRM input in the configured decision log, if one is."""
    from .store import config as store_config

    chosen = store_config.configured(location)
    if chosen is None:
        return
    from .crm.outcomes import closed_outcomes

    found = closed_outcomes(crm, data, source=source)
    store = store_config.store_for(chosen)
    for outcome in found.outcomes:
        if record_choice is None or record_choice == outcome.deal_id:
            changed = store.record_outcome(outcome)
            click.echo(f"outcome: {outcome.deal_id} {outcome.result} on {outcome.closed_on}{'' if changed else ' (already recorded)'}", err=True)


def _logged_previous(location: str | None, coach: Coach, deal: Deal) -> Deal:
    """`--since last`: the deal as it was last logged before this evaluation date."""
    from .store import StoreError
    from .store import config as store_config

    chosen = store_config.reading(location)
    previous = store_config.store_for(chosen).latest(deal.id, before=deal.as_of)
    if previous is None:
        raise StoreError(f"--since last: no review of deal {deal.id} evaluated before {deal.as_of} is logged in "
                         f"{store_config.store_for(chosen).url} (log reviews with --store or $DEALCOACH_STORE)")
    return coach.deal(previous.deal, label=f"decision {previous.id}")


playbook_option = click.option(
    "--playbook",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A company playbook directory laid over the shipped one.",
)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dealcoach")
def cli() -> None:
    """Rules-based deal coaching for key-account sales: next-best actions and risk warnings, each with its reasons."""


@cli.command(short_help="Coach one deal: the next milestone, the first moves, the risks and why.")
@click.argument("deal", metavar="DEAL")
@lang_option
@format_option
@as_of_option
@click.option(
    "--what-if",
    "change_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A YAML/JSON change to the deal: show which findings it would clear and which would appear.",
)
@click.option(
    "--since", "previous_file", metavar="FILE|last",
    help="The same deal's previous version (a deal file, or `last`: its newest logged review before this one): "
         "show new and cleared risks, done actions, stage and grade movement.",
)
@click.option("--purpose", type=click.Choice(PURPOSES), help="The coming meeting's purpose: what serves it is ranked first.")
@click.option("--all", "show_all", is_flag=True, help="Show every card, not only the first ones, and how each is settled.")
@click.option("--explain", is_flag=True, help="Show each finding's rule, section, record fields and reasoning.")
@with_crm_options
@with_send_options
@store_option
@playbook_option
def review(
    deal: str, lang: str, fmt: str, as_of: dt.date | None, change_file: str | None, previous_file: str | None,
    purpose: str | None, show_all: bool, explain: bool, crm: CrmInput | None, send_to: tuple[str, ...], channels_path: str | None,
    store_location: str | None, playbook: Path | None,
) -> None:
    """Coach one deal: findings ranked, blocking risks first, each with why it fired.

    DEAL is a YAML or JSON deal file, or - for standard input. With --what-if,
    the deal is reviewed before and after the change and the difference shown.
    """
    coach = api.coach(playbook)
    channels = _channels(send_to, channels_path)
    with json_input_errors(fmt):
        if change_file and previous_file:
            raise click.UsageError("--what-if and --since answer different questions: use one at a time")
        if previous_file == "last":
            current = _read(coach, deal, as_of, crm)
            result = coach.changes(_logged_previous(store_location, coach, current), current)
            _log(store_location, coach, result.current, current)
        elif previous_file is not None:
            if not Path(previous_file).is_file():
                raise click.BadParameter(f"{previous_file!r} is not a file (give a deal file, or `last` for the logged review)",
                                         param_hint="--since")
            previous = _read(coach, previous_file, None)  # a deal file, with its own as_of
            result = coach.changes(previous, _read(coach, deal, as_of, crm))
        elif change_file is None:
            current = _read(coach, deal, as_of, crm)
            result = coach.review(current, purpose=purpose)
            _log(store_location, coach, result, current)
        else:
            change = read_document(change_file)
            if not isinstance(change, dict):
                raise DealInputError(change_file, [InputProblem("", "a what-if change is a mapping of deal fields to change")])
            result = coach.what_if(_document(coach, deal, as_of, crm), change)
    language = _language(lang, result)
    _echo(coach.render(result, lang=language, fmt=fmt, show_all=show_all, explain=explain), nl=False)
    if channels:
        from .chat import Message

        text = coach.render(result, lang=language, fmt="markdown", sent=True)
        if _deliver(channels, [Message(text, language, reports_in(result)[-1].deal_name)]):
            raise click.exceptions.Exit(DELIVERY_FAILED)


@cli.command(short_help="May a deal advance to a stage? Exit 0 yes, 1 no.")
@click.argument("deal", metavar="DEAL")
@click.option("--to", "to_stage", required=True, help="Target stage: id, Chinese or English name.")
@click.option("--explain", is_flag=True, help="Show each blocking finding's rule, section, record fields and reasoning.")
@lang_option
@format_option
@as_of_option
@with_crm_options
@store_option
@playbook_option
@click.pass_context
def gate(
    ctx: click.Context, deal: str, to_stage: str, explain: bool, lang: str, fmt: str, as_of: dt.date | None, crm: CrmInput | None,
    store_location: str | None, playbook: Path | None,
) -> None:
    """May DEAL advance to stage --to? Exit 0 if yes, 1 if not (see README "Exit codes")."""
    coach = api.coach(playbook)
    try:
        with json_input_errors(fmt):
            current = _read(coach, deal, as_of, crm)
            result = coach.gate(current, to_stage)
    except api.UnknownStageError as error:
        raise click.BadParameter(str(error), param_hint="--to") from None
    _log(store_location, coach, result, current)
    _echo(coach.render(result, lang=_language(lang, result), fmt=fmt, explain=explain), nl=False)
    if not result.allowed:
        ctx.exit(GATE_BLOCKED)


SUMMARY_FORMATS = (*FORMATS, "html")
LOG_BATCH = 500  # decisions written to the decision log per transaction by `pipeline`


@cli.command(short_help="Review many deals in parallel, with a manager's roll-up.")
@click.argument("source", metavar="INPUT")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Worker processes (default: the machine's cores).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the JSON-Lines results here (default: stdout).")
@click.option("--summary", "summary_path", type=click.Path(dir_okay=False, writable=True), help="Write the roll-up here.")
@click.option("--summary-format", type=click.Choice(SUMMARY_FORMATS), default="text", show_default=True,
              help="Format of the roll-up; html: one self-contained page with charts.")
@pipeline_lang_option
@click.option("--with-text", is_flag=True, help="Include each finding's rendered text (in --lang) in the results.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run: keep the complete results in --output, review the rest.")
@click.option(
    "--previous", "previous_results", metavar="FILE|last",
    help="Compare with a previous run: its results (JSON Lines), or `last`, the newest complete run in the decision log "
         "(the default when a log is configured). The roll-up adds new blocking risks, deals moved forward, deals slipped.",
)
@click.option(
    "--from", "crm_kind", type=click.Choice(CRM_KINDS),
    help="INPUT holds this CRM's records or query responses (every record of a page is a deal); needs --as-of.",
)
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False), help="Your CRM mapping file (default: the shipped one).")
@as_of_option
@with_send_options
@store_option
@playbook_option
def pipeline(
    source: str, jobs: int | None, output: str | None, summary_path: str | None, summary_format: str,
    lang: str, with_text: bool, quiet: bool, resume: bool, previous_results: str | None, crm_kind: str | None,
    mapping: str | None, as_of: dt.date | None, send_to: tuple[str, ...], channels_path: str | None, store_location: str | None,
    playbook: Path | None,
) -> None:
    """Review many deals: a directory of deal files, a JSON-Lines file, or - (JSON Lines on stdin). With --from,
    CRM records or query responses instead: each file (or line) may hold a page of deals.

    Writes one JSON result per deal, in input order, then the manager's roll-up
    (to stderr when the results go to stdout): first the deals to talk about this
    week, each with the one question to ask its owner, and each owner's habit to
    coach; then the totals. A deal that cannot be reviewed gets an error record
    and exit code 6; the others are still reviewed.
    --output may not be an input, nor a deal-named file in the input directory.
    With a decision log (--store, $DEALCOACH_STORE) the run and every deal are logged, and the roll-up compares
    with the newest complete logged run.
    With --send, each owner gets one message: their deals' blocking risks and first moves.
    """
    from .engine import pipeline as pipeline_run  # imported here: multiprocessing is not needed by other commands
    from .engine.rollup import RollupBuilder

    if crm_kind is None and (mapping or as_of):
        raise click.UsageError(f"{'--mapping' if mapping else '--as-of'} is for CRM input: add --from CRM (deal files carry their own as_of)")
    if crm_kind is not None and as_of is None:
        raise click.UsageError("--from needs --as-of: a CRM record has no evaluation date, and dealcoach never reads the clock")

    if source != "-" and not Path(source).exists():
        raise click.BadParameter(f"{source!r} does not exist", param_hint="INPUT")
    previous_file = previous_results if previous_results not in (None, "last") else None
    if previous_file is not None and not Path(previous_file).is_file():
        reason = "is a directory" if Path(previous_file).is_dir() else "does not exist"
        raise click.BadParameter(f"{previous_file!r} {reason}: give a results file, or `last` for the newest logged run",
                                 param_hint="--previous")
    _refuse_writing_inputs(pipeline_run, source, output, summary_path, previous_file)
    if summary_format == "html":
        from .engine.charts import figure

        figure()  # matplotlib is there (else: how to install it), before any deal is reviewed
    coach = api.coach(playbook)
    channels = _channels(send_to, channels_path)
    if channels:
        from .engine.owner_digest import OwnerDigests
    digests = OwnerDigests() if channels else None
    jobs = jobs or pipeline_run.default_jobs()
    if resume and not output:
        raise click.UsageError("--resume needs --output: the file an interrupted run wrote")
    log = _PipelineLog.opened(store_location, coach, source)
    previous, compared_with, previous_for = _previous_run(pipeline_run, previous_results, store_location, log)
    rollup = RollupBuilder(previous=previous, compared_with=compared_with, ask=pipeline_run.question_maker(coach.renderer),
                           previous_for=previous_for)
    failed = 0
    done: set[str] = set()
    if resume:
        for result, line in _earlier_lines(pipeline_run, output):
            done.add(result.source)
            rollup.add(result.digest, line if result.ok else None)
            failed += 0 if result.ok else 1
    for entry, reason in pipeline_run.skipped(source):
        click.echo(f"note: skipped {entry}: {reason}", err=True)
    target = output or STDOUT
    with _writing(target):
        writer = pipeline_run.ResultsWriter.to_file(output, append=resume) if output else pipeline_run.ResultsWriter(_stdout_bytes())
    if crm_kind is None:
        total = pipeline_run.count_inputs(source)
        total = total - len(done) if total is not None else None
        inputs = pipeline_run.read_inputs(source)
    else:
        total, inputs = None, pipeline_run.read_converted(source, _crm_items(coach, pipeline_run, crm_kind, mapping, as_of))
    show_progress = not quiet and sys.stderr.isatty()
    items = (item for item in inputs if item.source not in done)
    if log is not None:
        if resume:
            log.resume(earlier_ok=rollup.reviewed, earlier_failed=failed)
        else:
            log.start()
    records = pipeline_run.review_all(
        items, jobs=jobs, playbook_dir=str(playbook) if playbook else None, lang=lang if with_text else None, keep_deals=log is not None
    )
    try:
        with _progress(total) if show_progress and total else _NoProgress() as bar:
            for result in records:
                with _writing(target):
                    writer.write(result.line)
                failed += 0 if result.ok else 1
                rollup.add(result.digest, result.line if result.ok else None)
                if log is not None:
                    log.add(result)
                if digests is not None and result.ok:
                    _add_excerpt(coach, digests, result.line, lang)
                bar.update(1)
    except KeyboardInterrupt:
        if log is not None:
            log.flush(quietly=True)  # what was reviewed stays logged; the run stays incomplete, never compared with
        hint = f" to {output}; to review the rest, run the same command with --resume" if output else ""
        click.echo(f"interrupted: {writer.lines} complete {'result' if writer.lines == 1 else 'results'} written{hint}", err=True)
        raise click.exceptions.Exit(INTERRUPTED) from None
    finally:
        records.close()  # stops the worker processes here and now, not whenever the generator is collected
        writer.close()
    if log is not None:
        log.finish(rollup.as_of)
    built = rollup.build()
    if summary_format == "html":
        from .engine.rollup_page import rollup_page

        text = rollup_page(coach.renderer, built, lang)
    else:
        text = coach.render(built, lang=lang, fmt=summary_format)
    if summary_path:
        _write_file(summary_path, text)
    else:
        _echo(text, err=output is None, nl=False)
    if digests is not None:
        from .chat import Message

        messages = [Message(coach.renderer.owner_digest(owner, deals, lang), lang) for owner, deals in digests.ordered()]
        if _deliver(channels, messages):
            raise click.exceptions.Exit(DELIVERY_FAILED)  # before 6: messages not delivered must be sent again
    if failed:
        raise click.exceptions.Exit(SOME_DEALS_FAILED)


class _PipelineLog:
    """A pipeline run in the decision log: the run (complete only once every deal is logged) and one decision per
    reviewed deal, written LOG_BATCH at a time from this process."""

    def __init__(self, store, coach: Coach, source: str):
        import uuid

        from .engine.version import VERSION
        from .store import Run
        from .store import config as store_config

        self.store = store
        self.caller = store_config.cli_caller()
        self.playbook_digest = coach.playbook.version_tag
        self.run = Run(id=str(uuid.uuid4()), logged_at=dt.datetime.now(dt.timezone.utc), source=printable(_label(source))[:1000],
                       deals=0, failed=0, ruleset_version=f"{VERSION}+{coach.playbook.version_tag}", caller=self.caller, complete=False)
        self.pending: list = []
        self.deals = 0  # decisions logged under this run
        self.expected = 0  # reviewed deals of a resumed run's file, which must be logged under it too
        self.failed = 0

    @classmethod
    def opened(cls, location: str | None, coach: Coach, source: str) -> _PipelineLog | None:
        """The log of this run when one is configured (opened now: a log that cannot be opened stops the run before any review)."""
        from .store import config as store_config

        chosen = store_config.configured(location)
        return cls(store_config.store_for(chosen), coach, source) if chosen else None

    def start(self) -> None:
        self.store.start_run(self.run)

    def resume(self, earlier_ok: int, earlier_failed: int) -> None:
        """Continue the interrupted run of the same input instead of starting one: the deals its results file already
        holds were logged under it. It is complete at the end only if every reviewed deal of the file is logged."""
        interrupted = self.store.incomplete_run(self.run.source)
        if interrupted is None:
            self.start()
        else:
            self.run = interrupted
        self.deals, self.failed = self.store.run_size(self.run.id), earlier_failed
        self.expected = earlier_ok

    def add(self, result) -> None:
        import uuid

        from .store.records import pipeline_decision

        if not result.ok or result.logged is None:
            self.failed += 0 if result.ok else 1
            return
        self.deals += 1
        self.expected += 1
        logged = result.logged
        self.pending.append(pipeline_decision(
            result.digest, logged.deal, logged.findings, decision_id=str(uuid.uuid4()), caller=self.caller,
            playbook_digest=self.playbook_digest, ruleset_version=logged.ruleset_version, run_id=self.run.id,
        ))
        if len(self.pending) >= LOG_BATCH:
            self.flush()

    def flush(self, quietly: bool = False) -> None:
        """Write the pending decisions; they stay pending until written (an interrupted write loses none)."""
        from .store import StoreError

        try:
            self.store.record_many(self.pending)
        except StoreError:
            if not quietly:
                raise
            return
        self.pending = []

    def finish(self, as_of: dt.date | None) -> None:
        """Write what is pending and close the run (`as_of`: the newest evaluation date among its deals, as the roll-up
        saw them): complete, so compared with later, only when every reviewed deal is logged."""
        self.flush()
        logged = self.store.run_size(self.run.id)
        if logged != self.expected:
            click.echo(f"note: the decision log holds {logged} of this run's {self.expected} reviewed deals "
                       "(some were reviewed by an interrupted run and not logged): the run is logged, but not compared with later",
                       err=True)
        self.store.finish_run(self.run.id, deals=self.deals, failed=self.failed, as_of=as_of, complete=logged == self.expected)


def _previous_run(pipeline_run, given: str | None, location: str | None, log: _PipelineLog | None):
    """What the roll-up compares with: the results file given (its digests and label); the newest complete logged
    run (`--previous last`); by default, when a log is configured, the newest complete logged run of deals evaluated
    before this run's (found once the first deal's date is known, so running this week's twice still compares with
    last week's); or nothing. Returns (previous digests, which run, or a finder for the default)."""
    from .engine.rollup import ComparedWith

    if given is not None and given != "last":
        earlier = _earlier_results(pipeline_run, given, "--previous", truncate=False)
        return {r.deal_id: r.digest for r in earlier if r.ok}, ComparedWith(kind="file", label=printable(given)), None
    if given is None and log is None:
        return None, None, None
    from .store import StoreError
    from .store import config as store_config

    store = log.store if log is not None else store_config.store_for(store_config.reading(location))

    def logged(run) -> tuple:
        return store.run_digests(run.id), ComparedWith(kind="log", label=run.id, logged_at=run.logged_at, deals=run.deals, as_of=run.as_of)

    if given == "last":  # asked for by name: the newest complete run, whatever its date
        runs = store.runs(1)
        if not runs:
            raise StoreError(f"--previous last: no complete pipeline run is logged in {store.url} (log runs with --store or $DEALCOACH_STORE)")
        return *logged(runs[0]), None
    return None, None, lambda as_of: next((logged(run) for run in store.runs(1, before=as_of)), None)


def _earlier_lines(pipeline_run, path: str):
    """The records (and lines) an interrupted run wrote, one at a time; a file that does not hold them is a usage error."""
    try:
        yield from pipeline_run.each_result(Path(path), truncate=True)
    except pipeline_run.ResultsFileError as error:
        raise click.BadParameter(str(error), param_hint="--resume") from None


def _add_excerpt(coach: Coach, digests: OwnerDigests, line: str, lang: str) -> None:
    """The lines an owner's message shows of one reviewed deal (its result line, read back and worded in `lang`)."""
    from .engine.owner_digest import excerpt
    from .engine.report import Report

    report = coach.localise(Report.model_validate(json.loads(line)["report"]), lang)
    digests.add(report.owner, excerpt(report, coach.playbook.priority.first_moves, lang))


def _crm_items(coach: Coach, pipeline_run, kind: str, mapping_file: str | None, as_of: dt.date):
    """Converts one CRM input (a record, or a query response's page) into pipeline items, one per record; a record
    the mapping skips (won, lost, void) is named in a note on stderr, never reviewed nor silently dropped."""
    from .crm import load_mapping

    mapping = load_mapping(kind, mapping_file)

    def items(data, source: str):
        page = coach.crm_records(kind, data, as_of=as_of, mapping=mapping, label=source)
        for note in page.notes:  # more pages to fetch, rows not sent: the run covers only what was sent
            click.echo(printable(f"note: {source}: {note}"), err=True)
        for converted in page:
            if converted.skipped is not None:
                click.echo(printable(f"note: skipped {converted.source} {converted.name or ''}: {converted.skipped}").rstrip(), err=True)
            elif converted.error is not None:
                yield pipeline_run.Item(converted.source, error=converted.error, deal_id=converted.record_id)
            else:
                yield pipeline_run.Item(converted.source, document=converted.document)

    return items


def _stdout_bytes():
    """Standard output as bytes, after anything already written to it as text."""
    if sys.stdout is None:
        raise OSError(errno.EBADF, "it is closed")
    sys.stdout.flush()
    return sys.stdout.buffer


def _refuse_writing_inputs(
    pipeline_run, source: str, output: str | None, summary_path: str | None, previous: str | None = None
) -> None:
    """Usage error before anything is written when --output or --summary would overwrite an input, or be read as one."""
    for option, path in (("--output", output), ("--summary", summary_path)):
        if not path or not pipeline_run.reads(source, path):
            continue
        if Path(source).is_dir():
            suffixes = ", ".join(pipeline_run.DEAL_SUFFIXES + pipeline_run.LINES_SUFFIXES)
            raise click.UsageError(
                f"{option} {path} is a deal file of the input directory {source}: it would destroy deals or be read as one; "
                f"write it outside {source}, or to a name not ending in {suffixes}"
            )
        raise click.UsageError(f"{option} {path} is the input {source} (or a link to it): writing it would destroy the deals; choose another file")
    if output and summary_path and (_same_file(output, summary_path) or os.path.realpath(output) == os.path.realpath(summary_path)):
        raise click.UsageError(f"--output {output} and --summary {summary_path} are the same file: choose two")
    if summary_path and previous and (_same_file(previous, summary_path) or os.path.realpath(previous) == os.path.realpath(summary_path)):
        raise click.UsageError(f"--summary {summary_path} is the earlier run's results (--previous): writing it would destroy them")


def _earlier_results(pipeline_run, path: str, option: str, truncate: bool) -> list:
    """The records of an earlier run; a file that does not hold them is a usage error naming the file and line."""
    try:
        return pipeline_run.read_results(Path(path), truncate=truncate)
    except pipeline_run.ResultsFileError as error:
        raise click.BadParameter(str(error), param_hint=option) from None


class SteadyEta:
    """Time left from the average rate since the first result: workers start up before any result and hand
    results back a chunk at a time, so click's own estimate (the last few steps) swings from seconds to hours."""

    def __init__(self, total: int, clock=time.monotonic):
        self.total, self.clock = total, clock
        self.done, self.first = 0, None

    def step(self) -> None:
        self.done += 1
        if self.first is None:
            self.first = self.clock()

    def text(self) -> str:
        if self.first is None or self.done < 2:
            return "starting"
        rate = (self.done - 1) / max(self.clock() - self.first, 1e-9)
        left = round((self.total - self.done) / rate)
        return f"about {left // 3600:d}:{left % 3600 // 60:02d}:{left % 60:02d} left"


def _progress(total: int):
    eta = SteadyEta(total)
    bar = click.progressbar(length=total, file=sys.stderr, label="reviewing", show_eta=False, item_show_func=lambda _: eta.text())
    real_update = bar.update

    def update(steps: int) -> None:
        for _ in range(steps):
            eta.step()
        real_update(steps, current_item=True)

    bar.update = update
    return bar


class _NoProgress:
    """Stands in for a progress bar when output is piped."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, steps: int) -> None:
        return None


@cli.command(short_help="A one-page pre-meeting brief for the meeting's purpose.")
@click.argument("deal", metavar="DEAL")
@click.option("--attendees", "-a", required=True, help="Contact ids of the people in the meeting, comma-separated.")
@click.option("--date", "meeting_date", required=True, type=ISO_DATE, help="Meeting date.")
@click.option(
    "--purpose", required=True,
    help="What the meeting is for: first_visit / 首次拜访, technical_exchange / 技术交流, proposal / 方案汇报, "
    "negotiation / 商务谈判 / 价格谈判, tender_clarification / 标书澄清, acceptance / 验收, or a few words of your own "
    "(\"最终价格和付款条款\" is a negotiation). The brief leads with what that meeting needs; the findings serving it come first.",
)
@lang_option
@click.option("--format", "fmt", type=click.Choice(["html", "markdown", "json"]), default="markdown", show_default=True,
              help="html: one printable A4 page; markdown: one chat message; json: for other tools.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the brief here (default: stdout).")
@as_of_option
@with_crm_options
@with_send_options
@playbook_option
def brief(
    deal: str, attendees: str, meeting_date: dt.date, purpose: str, lang: str, fmt: str, output: str | None,
    as_of: dt.date | None, crm: CrmInput | None, send_to: tuple[str, ...], channels_path: str | None, playbook: Path | None,
) -> None:
    """A one-page pre-meeting brief: what the meeting's purpose needs (for a price meeting: what we may concede, what we ask
    in return, the floor, who decides), the meeting objective, and for each attendee what they care about, the question
    to ask them and what we want them to do afterwards.

    HTML prints on one A4 page; markdown fits one 企业微信 / 钉钉 / 飞书 message (4,096 bytes).
    """
    if output and deal != "-" and _same_file(deal, output):
        raise click.UsageError(f"--output {output} is the deal file {deal} (or a link to it): writing the brief would destroy the deal")
    coach = api.coach(playbook)
    channels = _channels(send_to, channels_path)
    people = [a.strip() for a in attendees.split(",") if a.strip()]
    result = coach.brief(_read(coach, deal, as_of, crm), people, meeting_date, purpose)
    language = _language(lang, result)
    text = coach.render_brief(result, lang=language, fmt=fmt)
    _output(text, output)
    if channels:
        from .chat import Message

        markdown = text if fmt == "markdown" else coach.render_brief(result, lang=language, fmt="markdown")
        if _deliver(channels, [Message(markdown, language)]):
            raise click.exceptions.Exit(DELIVERY_FAILED)


@cli.command(short_help="Send markdown files (a brief, a review) to group chats.")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--to", "send_to", metavar="CHANNEL", multiple=True, required=True,
              help="A channel of the channels file, or wecom / dingtalk / feishu from the environment; repeat for several.")
@channels_option
def send(files: tuple[str, ...], send_to: tuple[str, ...], channels_path: str | None) -> None:
    """Send each markdown FILE (or - for standard input) as one message to each channel --to: converted to the chat's own
    markdown, signed where the robot asks for it (加签), trimmed at a line to the chat's size limit with a visible
    "…更多见完整报告", paced under the robot's rate and retried with backoff when it is rate-limited. Every message's
    outcome is printed; exit 8 when one was not delivered. Webhooks and secrets come from the channels file or the
    environment, never from the command line (README "Sending to group chats")."""
    from .chat import Message

    channels = _channels(send_to, channels_path)
    messages = []
    for name in files:
        try:
            with open_for_reading(name) if name != "-" else _stdin_bytes() as handle:
                raw = handle.read(MAX_MESSAGE_FILE + 1)
        except OSError as error:
            raise click.BadParameter(f"cannot read {name}: {error.strerror or error}", param_hint="FILE") from None
        if len(raw) > MAX_MESSAGE_FILE:
            raise click.BadParameter(f"{name} is over {MAX_MESSAGE_FILE:,} bytes: send a brief or a review, not a whole report", param_hint="FILE")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise click.BadParameter(f"{name} is not UTF-8 text (byte {error.start})", param_hint="FILE") from None
        if not text.strip():
            raise click.BadParameter(f"{name} is empty: nothing to send", param_hint="FILE")
        messages.append(Message(text, language_of([text]), _label(name)))
    if _deliver(channels, messages):
        raise click.exceptions.Exit(DELIVERY_FAILED)


@cli.command(short_help="Review CRM records and write the coaching back into the CRM.")
@click.argument("source", metavar="INPUT")
@click.option("--from", "crm_kind", type=click.Choice(WRITEBACK_CRMS), required=True,
              help="INPUT is this CRM's query response (or record), as for `pipeline --from`.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False), help="Your CRM mapping file (default: the shipped one).")
@click.option("--record", "record_choice", metavar="ID", help="Only this record of the response (its id or name).")
@as_of_option
@click.option("--dry-run", is_flag=True, help="Print the requests as JSON lines instead of sending them (no connection needed).")
@store_option
@click.option("--crm-config", type=click.Path(exists=True, dir_okay=False),
              help="CRM connections file (default: $DEALCOACH_CRM_CONFIG, else ~/.config/dealcoach/crm.yaml).")
@playbook_option
def sync(source: str, crm_kind: str, mapping: str | None, record_choice: str | None, as_of: dt.date | None, dry_run: bool,
         store_location: str | None, crm_config: str | None, playbook: Path | None) -> None:
    """Review every record of a Salesforce, HubSpot or Odoo query response (INPUT, or - for standard input) and write
    the coaching back onto each deal: the mapping's write-back fields (grade, blocking risks, next milestone, review
    date, fingerprint), a note with the first moves and blocking risks, and a task per first move. A record whose
    fingerprint field already holds this review's gets its fields refreshed only. One JSON line per record on
    stdout; each write's outcome on stderr. Exit 6 when a record could not be reviewed, 8 when a write was refused
    (README "Write-back"). With a decision log (--store), each review is logged and each closed record's
    outcome (won or lost, by the CRM's closed stages) recorded."""
    from .crm import load_mapping
    from .crm.client import CrmClient
    from .crm.connections import connection
    from .crm.convert import one
    from .crm.sync import shown_request, sync_record

    if as_of is None:
        raise click.UsageError("sync needs --as-of: a CRM record has no evaluation date, and dealcoach never reads the clock")
    coach = api.coach(playbook)
    client = None if dry_run else CrmClient(connection(crm_kind, crm_config))  # resolved first: a missing secret is exit 2 before any work
    the_mapping = load_mapping(crm_kind, mapping)
    data = read_document(source)
    page = coach.crm_records(crm_kind, data, as_of=as_of, mapping=the_mapping, label=_label(source))
    for note in page.notes:
        _echo(printable(f"note: {_label(source)}: {note}"), err=True)
    chosen = list(page)
    if record_choice is not None:
        one(page, record_choice, _label(source))  # an unknown or ambiguous choice is refused like review's --record
        chosen = [c for c in page if record_choice in (c.record_id, c.name)]
    failed_reviews = failed_writes = 0
    for converted in chosen:
        synced = sync_record(coach, crm_kind, converted, the_mapping, client)
        if dry_run and synced.planned:
            _echo(json.dumps({"deal_id": synced.record_id, "requests": [shown_request(crm_kind, w) for w in synced.planned]}, ensure_ascii=False))
            continue
        _echo(json.dumps(synced.summary(), ensure_ascii=False))
        if synced.report is not None and not dry_run:
            _log(store_location, coach, synced.report, coach.deal(converted.document))
        if synced.skipped:
            _echo(printable(f"note: skipped {synced.shown}: {synced.skipped}"), err=True)
        for problem in synced.problems:
            _echo(printable(f"not reviewed: {synced.shown}: {problem}"), err=True)
        for result in synced.results:
            _echo(printable(result.line(synced.shown)), err=True)
        failed_reviews += 1 if synced.problems else 0
        failed_writes += sum(1 for r in synced.results if not r.ok)
    if not dry_run:
        _record_closed(store_location, crm_kind, data, _label(source), record_choice)
    if failed_writes:
        raise click.exceptions.Exit(DELIVERY_FAILED)
    if failed_reviews:
        raise click.exceptions.Exit(SOME_DEALS_FAILED)


@contextmanager
def _stdin_bytes():
    if sys.stdin is None:
        raise OSError(errno.EBADF, "standard input is closed")
    yield sys.stdin.buffer


@cli.command(short_help="Run the HTTP decision service.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False),
              help="YAML file of settings (keys as the options, with _: max_batch); default: $DEALCOACH_CONFIG.")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="TCP port to listen on (default 8080).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Worker processes (default: the machine's cores).")
@click.option(
    "--token-file", type=click.Path(exists=True, dir_okay=False),
    help="File holding the bearer token callers must send (16+ characters of A-Z a-z 0-9 - . _ ~ + /).",
)
@click.option("--no-auth", is_flag=True, default=None, help="Allow serving a non-loopback address without a token.")
@click.option("--max-body-bytes", type=click.IntRange(1_000, 1_000_000_000), default=None,
              help="Largest request body; larger ones get 413 (default 1000000).")
@click.option("--max-batch", type=click.IntRange(1, 10_000), default=None,
              help="Most deals in one /v1/review/batch request; more get 413 (default 100).")
@click.option(
    "--timeout", "timeout_seconds", type=click.FloatRange(0.1, 600), default=None,
    help="Seconds per request; over it the caller gets 504 at once (default 10).",
)
@click.option("--work-threads", type=click.IntRange(1, 64), default=None, help="Evaluations running at once per worker (default 4).")
@click.option("--work-queue", type=click.IntRange(0, 10_000), default=None,
              help="Evaluations waiting per worker before 503 Busy (default 32).")
@click.option("--mappings", type=click.Path(exists=True, file_okay=False), help="Directory of CRM mapping files <crm>.yaml.")
@click.option("--log-format", type=click.Choice(["json", "text"]), default=None, help="Log lines on stderr (default json).")
@click.option("--access-log/--no-access-log", default=None, help="A log line per request (default on).")
@click.option("--metrics/--no-metrics", default=None, help="Prometheus metrics at /metrics (default on).")
@click.option("--public-metrics", is_flag=True, default=None, help="/metrics answers without the token (default: it needs the token).")
@click.option("--store", metavar="PATH|URL", default=None,
              help="Log every review and gate: a SQLite file, `default`, or postgresql://... (default: $DEALCOACH_STORE; unset: not logged).")
@playbook_option
def serve(config: str | None, playbook: Path | None, **given) -> None:
    """Run the HTTP decision service (API docs at /docs, OpenAPI at /openapi.json, metrics at /metrics).

    Each setting is taken from its option, else its DEALCOACH_* environment variable, else the --config file
    (or $DEALCOACH_CONFIG), else its default (README "Operating the service"). A bad value is refused with
    exit 2, naming where it came from.

    A token is required when serving a non-loopback address: --token-file, the
    DEALCOACH_API_TOKEN environment variable, or token_file in the config file; --no-auth overrides. A token
    is at least 16 characters of A-Z a-z 0-9 - . _ ~ + / (= only at the end);
    an empty or malformed one is refused (exit 2), never read as "no token".
    """
    import tempfile
    from contextlib import ExitStack

    import uvicorn

    from .crm import KINDS, load_mapping
    from .engine.pipeline import default_jobs
    from .engine.user_files import is_loopback
    from .service.app import custom_mapping, ruleset_version
    from .service.logs import line, logging_config
    from .service.metrics import MULTIPROCESS_VARIABLE
    from .service.settings import CONFIG_VARIABLE, SettingError, resolve

    try:
        configuration = resolve({**given, "config": config, "playbook": str(playbook) if playbook else None}, os.environ)
    except SettingError as error:
        raise click.UsageError(str(error)) from None
    settings, host = configuration.settings, configuration.host
    if not settings.token and not is_loopback(host) and not configuration.no_auth:
        raise click.UsageError(f"serving {host} without a token: use --token-file or DEALCOACH_API_TOKEN, or --no-auth")
    coach = api.coach(settings.playbook_dir)  # fail here, with exit 4, rather than in every worker
    for crm in KINDS:  # and a mapping file that cannot be used, with exit 3
        load_mapping(crm, custom_mapping(settings.mapping_dir, crm))
    decision_log = None
    if settings.store:  # opened and migrated once here (exit 9 if it cannot be), before the workers open it
        from .store import open_store

        decision_log = open_store(settings.store)
        decision_log.close()
    workers = configuration.workers or default_jobs()
    with ExitStack() as cleanup:
        metrics_dir = os.environ.get(MULTIPROCESS_VARIABLE)
        if settings.metrics and metrics_dir and not (os.path.isdir(metrics_dir) and os.access(metrics_dir, os.W_OK)):
            raise click.UsageError(f"{MULTIPROCESS_VARIABLE}: {metrics_dir!r} is not a writable directory; allowed: an empty, writable "
                                   "directory for the workers' metrics, or unset (serve then makes one)")
        if settings.metrics and workers > 1 and not metrics_dir:  # every worker's metrics, added up at /metrics
            metrics_dir = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="dealcoach-metrics-"))
            os.environ[MULTIPROCESS_VARIABLE] = metrics_dir
            cleanup.callback(os.environ.pop, MULTIPROCESS_VARIABLE, None)
        os.environ.update(configuration.environment())  # what every worker's Settings.from_env() reads
        os.environ.pop(CONFIG_VARIABLE, None)  # the workers run what was resolved here, not a file edited since
        address = f"http://[{host}]:{configuration.port}" if ":" in host else f"http://{host}:{configuration.port}"
        version = ruleset_version(coach)
        auth = "on" if settings.token else "off"
        metrics = ("on, " + ("no token" if settings.public_metrics or not settings.token else "token")) if settings.metrics else "off"
        if settings.metrics and metrics_dir:
            metrics += f", workers' files in {metrics_dir}"
        logged = decision_log.url if decision_log is not None else "off"
        summary = (f"dealcoach serving {address}: {workers} worker{'s' if workers > 1 else ''}, rule set {version}, auth {auth}, "
                   f"metrics {metrics}, decision log {logged}, config: {configuration.origin()}")
        click.echo(line(settings.log_format, summary, event="starting", address=address, workers=workers, ruleset_version=version,
                        auth=auth, metrics=metrics, decision_log=logged, config=configuration.origin()), err=True)
        uvicorn.run(
            "dealcoach.service.app:app_from_env", factory=True, host=host, port=configuration.port, workers=workers,
            log_level="warning", access_log=False, log_config=logging_config(settings.log_format),
        )


@cli.command(short_help="List every rule, or explain one (dealcoach rules DC406).")
@click.argument("code", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@click.option("--lang", type=click.Choice(LANGUAGES), default="zh", show_default=True, help="Language of the rules' names.")
@click.option("--terms", is_flag=True, help="List the terms a company rule's condition may test instead.")
@playbook_option
def rules(code: str | None, fmt: str, lang: str, terms: bool, playbook: Path | None) -> None:
    """List every rule, or explain the rule CODE (e.g. DC406 or sponsors-but-blind). With a company playbook, its own
    rules are listed too, and each change it makes to a shipped rule is shown."""
    coach = api.coach(playbook)
    if terms:
        _terms(fmt, coach)
        return
    findings = coach.rules()
    switched_off = False
    if code is not None:
        chosen = coach.rule(code)
        if chosen is None:
            chosen = coach.shipped_rule(code)
            if chosen is None or chosen.code not in coach.switched_off():
                raise click.BadParameter(f"{code!r} is not a rule code or symbol; see `dealcoach rules`", param_hint="CODE")
            switched_off = True
        findings = [chosen]
    entries = [{**coach.rule_info(r), "name": coach.renderer.short_name(r.code, lang), "switched_off": False} for r in findings]
    if fmt == "json":  # a list of rules as always; those the playbook switched off last, marked
        if code is None:
            off = [coach.shipped_rule(c) for c in coach.switched_off()]
            entries += [{**coach.rule_info(r), "name": coach.renderer.short_name(r.code, lang), "switched_off": True} for r in off]
        _echo(json.dumps(entries if code is None else {**entries[0], "switched_off": switched_off}, ensure_ascii=False, indent=2))
        return
    if code is None:
        rows = [[e["code"], e["name"], e["symbol"], e["kind"], e["severity"], e["section"] or "-", _changed(e)] for e in entries]
        for line in aligned([""] * 7, rows)[1:]:
            _echo(line.rstrip())
        if coach.switched_off():
            _echo(f"\nSwitched off by the playbook: {', '.join(coach.switched_off())}")
        return
    entry = entries[0]
    if switched_off:
        _echo("Switched off by the playbook: it never fires. As shipped:\n")
    _echo(f"{entry['code']} {entry['symbol']} ({entry['kind']}, {entry['severity']}, {entry['section'] or entry['origin']})")
    _echo(f"{entry['name']}\n")
    _echo(entry["doc"])
    stages = f"; only in stages: {', '.join(entry['stages'])}" if entry["stages"] else ""
    _echo(f"\nAbout: {entry['subject']}; shown in: {', '.join(entry['phases'])}{stages}; topics: {', '.join(entry['topics']) or '-'}")
    if entry["yields_to"]:
        _echo(f"Not shown when the deal also has: {', '.join(entry['yields_to'])}")
    if entry["tuned"]:
        _echo("Changed by the playbook: " + "; ".join(f"{trait} (shipped: {shipped})" for trait, shipped in entry["tuned"].items()))


def _changed(entry: dict) -> str:
    """What the playbook did to a rule, for the rule list: its own rule, or the traits it changed."""
    if entry["origin"] == "company":
        return "company rule"
    return ", ".join(f"{trait} changed (shipped: {shipped})" for trait, shipped in entry["tuned"].items())


def _terms(fmt: str, coach: Coach) -> None:
    """The condition language's terms (engine.condition_language), and the stage and buying-step ids of the playbook's
    stage models, for `rules --terms`."""
    from .engine.condition_language import all_terms

    entries = [
        {"where": where, "term": name, "kind": term.kind, "values": list(term.values), "meaning": term.meaning,
         "record": list(term.record)}
        for where, name, term in all_terms()
    ]
    models = coach.playbook.stage_models.values()
    stages = {model.id: [{"stage": s.id, "name": s.name.model_dump(), "buying_step": s.buying_step.id,
                          "buying_step_name": s.buying_step.name.model_dump()} for s in model.stages] for model in models}
    if fmt == "json":
        _echo(json.dumps({"terms": entries, "stage_models": stages}, ensure_ascii=False, indent=2))
        return
    width = max(len(e["term"]) for e in entries) + 2
    for where in dict.fromkeys(e["where"] for e in entries):
        _echo(f"{where}:")
        for e in (e for e in entries if e["where"] == where):
            _echo(f"  {e['term']:<{width}}{e['kind']:<9}{e['meaning']}")
            if e["values"]:
                _echo(f"  {'':<{width}}{'':<9}values: {', '.join(e['values'])}")
    for model_id, listed in stages.items():
        _echo(f"\nstage ids ({model_id}): " + ", ".join(f"{s['stage']} {s['name']['zh']}" for s in listed))
        _echo(f"buying-step ids ({model_id}): " + ", ".join(f"{s['buying_step']} {s['buying_step_name']['zh']}" for s in listed))


@cli.command("test", short_help="Run a playbook's scenarios: exit 0 all pass, 1 some failed.")
@click.argument("playbook", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("scenarios", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("-k", "selected", metavar="TEXT", help="Run only the scenarios whose name contains TEXT.")
@click.option("--coverage", is_flag=True, help="Then list the rules no scenario fired and the company rules' tests never true.")
@click.option("--junit-xml", "junit", type=click.Path(dir_okay=False, path_type=Path), help="Also write the results as JUnit XML.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the scenarios that did not pass, and the summary.")
def test_playbook(
    playbook: Path, scenarios: tuple[Path, ...], selected: str | None, coverage: bool, junit: Path | None, fmt: str, quiet: bool
) -> None:
    """Run the scenario files of PLAYBOOK (its scenarios/ folder, or the SCENARIOS files and folders given): each deal
    is reviewed, gated when the scenario asks, and rendered in both languages; every expected finding and gate outcome
    is checked. Exit 0 when every scenario passes, 1 when one fails or cannot run, 4 when the playbook is invalid."""
    from .engine import scenarios as scenario_tests

    coach = api.coach(playbook)
    files = scenario_tests.scenario_files(playbook, scenarios)
    if not files:
        raise click.UsageError(f"no scenario files: put *.yaml files in {playbook / 'scenarios'} or name them after PLAYBOOK")
    started = time.perf_counter()
    runner = scenario_tests.Runner(coach)
    results = [result for path in files for result in runner.run_file(path, selected)]
    elapsed = time.perf_counter() - started
    if not results:
        raise click.UsageError(f"no scenario's name contains {selected!r}")
    cover = scenario_tests.coverage(coach, runner.probes, results) if coverage else None
    if junit is not None:
        target = junit.resolve()
        if target in runner.read or (target.exists() and target.is_relative_to(playbook.resolve())):
            raise click.UsageError(f"--junit-xml {junit} would replace a file the scenarios read or a file of the playbook; "
                                   "write the report elsewhere")
        with _writing(str(junit)):
            junit.write_bytes(scenario_tests.junit_xml(results, f"dealcoach test {playbook}"))
    counts = {outcome: sum(1 for r in results if r.outcome == outcome) for outcome in ("pass", "fail", "error")}
    if fmt == "json":
        document = {
            "passed": counts["pass"], "failed": counts["fail"], "errors": counts["error"], "seconds": round(elapsed, 3),
            "scenarios": [{"file": r.file, "line": r.line, "name": r.name, "outcome": r.outcome, "failures": r.failures,
                           "error": r.error} for r in results],
            **({"coverage": scenario_tests.coverage_json(cover)} if cover else {}),
        }
        _echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        for result in results:
            if quiet and result.passed:
                continue
            where = f"{result.file}:{result.line}" if result.line else result.file
            _echo(f"{result.outcome.upper():<5}  {where}  {printable(result.name)}")
            for line in result.failures or ([result.error] if result.error else []):
                _echo(f"       {printable(line)}")
        _echo(f"\n{counts['pass']} passed, {counts['fail']} failed, {counts['error']} could not run, in {elapsed:.2f} s")
        if cover:
            _echo("\n" + scenario_tests.coverage_text(cover))
    if counts["fail"] or counts["error"]:
        raise click.exceptions.Exit(SCENARIOS_FAILED)


@cli.command(short_help="Print the JSON Schema of a deal file.")
def schema() -> None:
    """Print the JSON Schema of a deal file."""
    _echo(json.dumps(Deal.model_json_schema(), ensure_ascii=False, indent=2))


@cli.command(short_help="Print the service's OpenAPI document: 3.1, or 3.0 for importers such as Salesforce.")
@click.option("--version", "oas_version", type=click.Choice(["3.0", "3.1"]), default="3.1", show_default=True,
              help="OpenAPI version: 3.0 for Salesforce External Services and gateways that read only 3.0.")
@click.option("--server", metavar="URL", help="The service's base URL for `servers`, e.g. https://dealcoach.example.com (default: /).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the document here (default: stdout).")
def openapi(oas_version: str, server: str | None, output: str | None) -> None:
    """Print the HTTP service's OpenAPI document as JSON: bearer security, servers, error answers as
    application/problem+json, typed brief answers and CRM record bodies with an example per CRM. --version 3.0
    down-converts it for importers that read only OpenAPI 3.0."""
    from .service.app import Settings, create_app
    from .service.openapi import contract, dumps

    text = dumps(contract(create_app(Settings()), oas_version, server))
    _output(text, output)


@cli.command(short_help="Write an example deal file to start from.")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="deal.yaml")
@click.option("--lang", type=click.Choice(LANGUAGES), default="zh", show_default=True, help="Language of the example deal to write.")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init(path: Path, lang: str, force: bool) -> None:
    """Write an example deal file to start from (default: deal.yaml)."""
    if path.exists() and not force:
        raise click.UsageError(f"{path} exists; use --force to overwrite it")
    name = EXAMPLES[0] if lang == "zh" else EXAMPLES[1]
    text = resources.files("dealcoach").joinpath("examples", name).read_text(encoding="utf-8")
    _write_file(str(path), text)
    _echo(f"wrote {path}; next: dealcoach review {path}")


from . import cli_log, cli_outcomes  # noqa: E402,F401 - their commands join the group above


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="dealcoach")
