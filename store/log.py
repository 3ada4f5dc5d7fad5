"""The decision log: one SQLite file by default, or a PostgreSQL database shared by a team's service replicas.

Every write is one transaction; the schema is brought to the newest revision by
Alembic when the log is opened (several processes may open it at once).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, and_, or_, create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import make_url
from alembic.util import CommandError
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from ..engine.errors import DealcoachError
from ..engine.rollup import Digest
from .config import STORE_VARIABLE  # noqa: F401 - re-exported: where the log's location is read
from .records import RESULTS, Decision, LoggedFinding, Outcome, Run, dumps
from .tables import decisions, findings, outcomes, runs

RETENTION_VARIABLE = "DEALCOACH_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 730  # two years: a year of outcomes, and the year before to compare with
MIGRATIONS = Path(__file__).with_name("migrations")
T = TypeVar("T")
log = logging.getLogger("dealcoach.store")
_LOCK_KEY = 0x6465616C636F6163  # "dealcoac": PostgreSQL advisory lock held while migrating


class StoreError(DealcoachError):
    """The decision log cannot be opened, read or written, or holds nothing for what was asked."""

    exit_code = 9


def default_path() -> Path:
    """Where the embedded log lives: $XDG_DATA_HOME/dealcoach/decisions.sqlite3 (~/.local/share/... by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dealcoach" / "decisions.sqlite3"


def store_url(value: str) -> str:
    """A SQLAlchemy URL from what a user writes: a file path, `default`, sqlite:///..., or postgresql://..."""
    value = value.strip()
    if not value:
        raise StoreError("the decision log's location is empty: give a file path, `default`, or postgresql://user@host/db")
    if value == "default":
        return f"sqlite:///{default_path()}"
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    scheme, rest = value.split("://", 1)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return f"postgresql+psycopg://{rest}"
    if scheme == "sqlite":
        return value
    raise StoreError(f"the decision log's URL {shown_url(value)!r} is neither a file path, sqlite:///PATH nor postgresql://...")


SECRET_QUERY = ("password", "passfile", "sslpassword", "sslkey")  # libpq parameters that hold or point to a secret


def shown_url(url: str) -> str:
    """The URL without its password (in the user part or the query), for messages and logs."""
    try:
        parsed = make_url(url)
        hidden = {key: "***" for key in parsed.query if key.lower() in SECRET_QUERY}
        return parsed.update_query_dict(hidden).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "the configured URL (unreadable: check its form, postgresql://user:password@host:port/database)"


class Store:
    """Writes and reads the decision log. Thread-safe; one per process and location is enough."""

    def __init__(self, engine: Engine, retention_days: int | None = DEFAULT_RETENTION_DAYS):
        self.engine = engine
        self.url = shown_url(str(engine.url))
        self.retention_days = retention_days
        self._purged_on: dt.date | None = None
        self._purge_lock = threading.Lock()

    # -- writing -----------------------------------------------------------------

    def record(self, decision: Decision) -> None:
        """Log one decision and its findings."""
        self.record_many([decision])

    def record_many(self, batch: Iterable[Decision]) -> int:
        """Log decisions in one transaction; the number logged."""
        rows, finding_rows = [], []
        for decision in batch:
            rows.append(_decision_row(decision))
            finding_rows.extend(
                {"decision_id": clean(decision.id), "position": position, **{k: clean(v) for k, v in vars(finding).items()}}
                for position, finding in enumerate(decision.findings)
            )
        if not rows:
            return 0

        def insert_all(connection: Connection) -> None:
            connection.execute(insert(decisions), rows)
            if finding_rows:
                connection.execute(insert(findings), finding_rows)

        self._write(insert_all)
        self._purge_daily()
        return len(rows)

    def start_run(self, run: Run) -> None:
        with self._writing() as connection:
            connection.execute(insert(runs).values(**vars(run)))

    def finish_run(self, run_id: str, deals: int, failed: int, as_of: dt.date | None = None, complete: bool = True) -> None:
        with self._writing() as connection:
            connection.execute(update(runs).where(runs.c.id == run_id).values(deals=deals, failed=failed, complete=complete, as_of=as_of))

    def incomplete_run(self, source: str) -> Run | None:
        """The newest run of this input that did not finish (what `pipeline --resume` continues)."""
        with self._reading() as connection:
            row = connection.execute(select(runs).where(and_(runs.c.source == clean(source), runs.c.complete.is_(False)))
                                     .order_by(runs.c.logged_at.desc()).limit(1)).mappings().first()
        return None if row is None else Run(**{**row, "logged_at": _aware(row["logged_at"])})

    def run_size(self, run_id: str) -> int:
        """How many decisions are logged under a run."""
        with self._reading() as connection:
            return connection.execute(select(func.count()).select_from(decisions).where(decisions.c.run_id == run_id)).scalar_one()

    def record_outcome(self, outcome: Outcome) -> bool:
        """Log how a deal ended (replacing an earlier outcome); True if it was new or changed."""
        if outcome.result not in RESULTS:
            raise StoreError(f"an outcome is one of {', '.join(RESULTS)}, not {outcome.result!r}")
        row = {key: clean(value) for key, value in vars(outcome).items()} | {"reason": clean(outcome.reason) or None}

        def replace(connection: Connection) -> bool:
            found = connection.execute(select(outcomes).where(outcomes.c.deal_id == row["deal_id"])).mappings().first()
            if found is not None and (found["result"], found["closed_on"], found["reason"]) == (row["result"], row["closed_on"], row["reason"]):
                return False
            upsert = _insert_for(connection)(outcomes).values(**row)  # one statement: writers racing on a deal never collide
            connection.execute(upsert.on_conflict_do_update(index_elements=[outcomes.c.deal_id],
                                                            set_={k: v for k, v in row.items() if k != "deal_id"}))
            return True

        return self._write(replace)

    def forget(self, deal_id: str) -> dict[str, int]:
        """Remove everything logged of one deal (decisions, findings, outcome); how many of each."""
        with self._writing() as connection:
            ids = select(decisions.c.id).where(decisions.c.deal_id == deal_id)
            gone_findings = connection.execute(delete(findings).where(findings.c.decision_id.in_(ids))).rowcount
            gone = connection.execute(delete(decisions).where(decisions.c.deal_id == deal_id)).rowcount
            gone_outcome = connection.execute(delete(outcomes).where(outcomes.c.deal_id == deal_id)).rowcount
        self._checkpoint()
        return {"decisions": gone, "findings": gone_findings, "outcomes": gone_outcome}

    def _checkpoint(self) -> None:
        """On SQLite, fold the write-ahead log into the file and empty it, so removed rows leave no copy behind there.
        (PostgreSQL keeps removed rows until its autovacuum reclaims them.)"""
        if self.engine.dialect.name != "sqlite":
            return
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except SQLAlchemyError:  # a reader holding the log open: the next checkpoint folds it in
            pass

    def purge(self, before: dt.datetime) -> int:
        """Remove decisions logged before `before` (and runs with no decision left); how many decisions."""
        with self._writing() as connection:
            old = select(decisions.c.id).where(decisions.c.logged_at < before)
            connection.execute(delete(findings).where(findings.c.decision_id.in_(old)))
            gone = connection.execute(delete(decisions).where(decisions.c.logged_at < before)).rowcount
            connection.execute(delete(runs).where(runs.c.logged_at < before))
        self._checkpoint()
        return gone

    def _purge_daily(self) -> None:
        """Apply the retention period at most once a day per process. A purge that fails is logged and tried again
        at the next write; it never fails the write that came before it."""
        if not self.retention_days:
            return
        today = dt.date.today()
        with self._purge_lock:
            if self._purged_on == today:
                return
            try:
                self.purge(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=self.retention_days))
            except StoreError as error:
                log.warning("the retention period could not be applied now: %s", error)
                return
            self._purged_on = today

    # -- reading -----------------------------------------------------------------

    def decision(self, decision_id: str) -> Decision | None:
        found = self._decisions(decisions.c.id == clean(decision_id))
        return found[0] if found else None

    def deal_decisions(self, deal_id: str) -> list[Decision]:
        """Every logged decision of a deal, oldest first (by evaluation date, then by when it was logged)."""
        return self._decisions(decisions.c.deal_id == clean(deal_id))

    def latest(self, deal_id: str, before: dt.date | None = None) -> Decision | None:
        """The deal's newest review (a gate's deal may stand at the stage a move left), or its newest evaluated before `before`."""
        condition = and_(decisions.c.deal_id == clean(deal_id), decisions.c.kind != "gate")
        if before is not None:
            condition = and_(condition, decisions.c.as_of < before)
        found = self._decisions(condition, newest=1)
        return found[0] if found else None

    def latest_per_deal(self, since: dt.date | None = None, until: dt.date | None = None) -> list[Decision]:
        """Each deal's newest review (not gate) evaluated in [since, until], ordered by deal id."""
        conditions = [decisions.c.kind != "gate"]
        if since is not None:
            conditions.append(decisions.c.as_of >= since)
        if until is not None:
            conditions.append(decisions.c.as_of <= until)
        ranked = select(
            decisions.c.id,
            func.row_number().over(partition_by=decisions.c.deal_id, order_by=(decisions.c.as_of.desc(), decisions.c.logged_at.desc())).label("n"),
        ).where(and_(True, *conditions)).subquery()
        newest = select(ranked.c.id).where(ranked.c.n == 1)
        found = self._decisions(decisions.c.id.in_(newest))
        return sorted(found, key=lambda d: d.deal_id)

    def all_decisions(self, since: dt.date | None = None, with_outcome: bool = False) -> Iterator[Decision]:
        """Every decision (of the deals with a recorded outcome only, if asked), by deal then time, read in chunks."""
        condition = decisions.c.as_of >= since if since is not None else and_(True)
        if with_outcome:
            condition = and_(condition, decisions.c.deal_id.in_(select(outcomes.c.deal_id)))
        with self.engine.connect() as connection:
            rows = connection.execution_options(yield_per=500).execute(
                select(decisions).where(condition).order_by(decisions.c.deal_id, decisions.c.as_of, decisions.c.logged_at)
            ).mappings()
            chunk: list = []
            for row in rows:
                chunk.append(dict(row))
                if len(chunk) == 500:
                    yield from self._with_findings(connection, chunk)
                    chunk = []
            yield from self._with_findings(connection, chunk)

    def outcomes(self) -> dict[str, Outcome]:
        with self._reading() as connection:
            rows = connection.execute(select(outcomes)).mappings()
            return {row["deal_id"]: Outcome(**{**row, "recorded_at": _aware(row["recorded_at"])}) for row in rows}

    def runs(self, limit: int = 2, before: dt.date | None = None) -> list[Run]:
        """The newest complete pipeline runs, newest first; with `before`, only runs of deals evaluated before that
        date (a run logged before its date was recorded counts too), so running this week's twice still compares
        with last week's."""
        condition = and_(runs.c.complete.is_(True), runs.c.deals > 0)
        if before is not None:
            condition = and_(condition, or_(runs.c.as_of < before, runs.c.as_of.is_(None)))
        with self._reading() as connection:
            rows = connection.execute(
                select(runs).where(condition).order_by(runs.c.logged_at.desc(), runs.c.id).limit(limit)
            ).mappings()
            return [Run(**{**row, "logged_at": _aware(row["logged_at"])}) for row in rows]

    def run_digests(self, run_id: str) -> dict[str, Digest]:
        """What each deal of a logged pipeline run looked like, by deal id (the roll-up compares with it)."""
        with self._reading() as connection:
            rows = connection.execute(select(decisions.c.deal_id, decisions.c.digest).where(decisions.c.run_id == run_id))
            return {deal_id: _for_comparing(Digest.model_validate_json(text)) for deal_id, text in rows}

    def count(self) -> dict[str, int]:
        """How many rows each table holds."""
        with self._reading() as connection:
            return {table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                    for table in (decisions, findings, runs, outcomes)}

    def close(self) -> None:
        self.engine.dispose()

    # -- helpers -----------------------------------------------------------------

    def _decisions(self, condition, newest: int | None = None) -> list[Decision]:
        order = (decisions.c.as_of, decisions.c.logged_at, decisions.c.id)
        query = select(decisions).where(condition)
        query = query.order_by(*(c.desc() for c in order)).limit(newest) if newest else query.order_by(*order)
        with self._reading() as connection:
            rows = [dict(row) for row in connection.execute(query).mappings()]
            return list(self._with_findings(connection, rows))

    @staticmethod
    def _with_findings(connection, rows: list[dict]) -> Iterator[Decision]:
        if not rows:
            return
        shown: dict[str, list[LoggedFinding]] = {row["id"]: [] for row in rows}
        query = select(findings).where(findings.c.decision_id.in_(list(shown))).order_by(findings.c.decision_id, findings.c.position)
        for row in connection.execute(query).mappings():
            shown[row["decision_id"]].append(
                LoggedFinding(code=row["code"], kind=row["kind"], severity=row["severity"], rank=row["rank"], subject=row["subject"],
                              folded=row["folded"])
            )
        for row in rows:
            yield Decision(
                id=row["id"], logged_at=_aware(row["logged_at"]), kind=row["kind"], deal=json.loads(row["deal"]),
                digest=Digest.model_validate_json(row["digest"]), findings=tuple(shown[row["id"]]),
                ruleset_version=row["ruleset_version"], playbook_digest=row["playbook_digest"], caller=row["caller"],
                to_stage=row["to_stage"], allowed=row["allowed"], run_id=row["run_id"],
            )

    def _write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one transaction; once more on a fresh connection if the server had dropped the pooled one
        (a database restart), so no write is lost to a stale connection."""
        try:
            with self.engine.begin() as connection:
                return work(connection)
        except SQLAlchemyError as error:
            if not (isinstance(error, DBAPIError) and error.connection_invalidated):
                raise StoreError(f"cannot write to the decision log {self.url}: {_reason(error)}") from None
        with self._writing() as connection:
            return work(connection)

    @contextmanager
    def _writing(self):
        try:
            with self.engine.begin() as connection:
                yield connection
        except SQLAlchemyError as error:
            raise StoreError(f"cannot write to the decision log {self.url}: {_reason(error)}") from None

    @contextmanager
    def _reading(self):
        try:
            with self.engine.connect() as connection:
                yield connection
        except SQLAlchemyError as error:
            raise StoreError(f"cannot read the decision log {self.url}: {_reason(error)}") from None


def _for_comparing(digest: Digest) -> Digest:
    """What the roll-up compares of a deal's earlier review (stage, close date, blocking risks): a small record per deal."""
    return digest.model_copy(update={"findings": [f.model_copy(update={"params": {}}) for f in digest.findings if f.severity == "block"]})


def _insert_for(connection: Connection):
    """The dialect's INSERT, which has ON CONFLICT DO UPDATE on both PostgreSQL and SQLite."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes; every time in the log is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def _reason(error: SQLAlchemyError) -> str:
    original = getattr(error, "orig", None)
    return str(original or error).strip().splitlines()[0]


def clean(text: str | None) -> str | None:
    """Text PostgreSQL can hold: NUL (which a deal may carry, and SQLite keeps) becomes U+FFFD."""
    return text.replace("\x00", "\ufffd") if isinstance(text, str) else text


def _decision_row(decision: Decision) -> dict[str, Any]:
    return {key: clean(value) if isinstance(value, str) else value for key, value in _raw_row(decision).items()}


def _raw_row(decision: Decision) -> dict[str, Any]:
    digest = decision.digest
    return {
        "id": decision.id, "logged_at": decision.logged_at, "kind": decision.kind, "deal_id": digest.deal_id, "deal_name": digest.deal_name,
        "owner": digest.owner, "as_of": decision.as_of, "stage_model": digest.stage_model, "stage": digest.stage.id,
        "stage_index": digest.stage.index, "buying_step": digest.buying_step.id, "grade": digest.grade, "amount": digest.amount,
        "currency": digest.currency, "expected_close": digest.expected_close, "to_stage": decision.to_stage, "allowed": decision.allowed,
        "ruleset_version": decision.ruleset_version, "playbook_digest": decision.playbook_digest, "caller": decision.caller,
        "run_id": decision.run_id, "deal": dumps(decision.deal), "digest": digest.model_dump_json(),
    }


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer; several processes may write in turn
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL's recommended setting: never corrupt; a power cut may lose the last commits
    cursor.execute("PRAGMA busy_timeout=5000")  # shorter than the service's request limit: a stuck writer is an error, not a hang
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # what `forget` removes is overwritten, not left in free pages
    cursor.close()


def open_store(location: str, *, retention_days: int | None = None) -> Store:
    """Open (creating and migrating as needed) the decision log at a path or URL."""
    url = store_url(location)
    shown = shown_url(url)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///"))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the decision log's directory {path.parent}: {error.strerror}") from None
    pool = {"pool_size": 16, "max_overflow": 48, "pool_timeout": 5} if not url.startswith("sqlite") else {}  # the service's threads
    try:
        engine = create_engine(url, **pool)  # no pre-ping round trip per write: a connection the server dropped is retried once instead
    except (ArgumentError, ImportError, ValueError) as error:
        raise StoreError(f"cannot open the decision log {shown}: {error}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        migrate(engine)
    except SQLAlchemyError as error:
        engine.dispose()
        raise StoreError(f"cannot open the decision log {shown}: {_reason(error)}") from None
    except OSError as error:
        engine.dispose()
        raise StoreError(f"cannot open the decision log {shown}: {error.strerror or error}") from None
    except CommandError as error:  # e.g. a revision this dealcoach does not know: the log was migrated by a newer one
        engine.dispose()
        raise StoreError(f"cannot open the decision log {shown}: {error}; a newer dealcoach migrated it: upgrade dealcoach") from None
    return Store(engine, retention_days=retention(retention_days))


def retention(days: int | None) -> int | None:
    """The retention period in days: the argument, $DEALCOACH_RETENTION_DAYS, or two years; 0 keeps everything."""
    if days is not None:
        return days or None
    text = os.environ.get(RETENTION_VARIABLE, "").strip()
    if not text:
        return DEFAULT_RETENTION_DAYS
    if not text.isdigit():
        raise StoreError(f"{RETENTION_VARIABLE}={text!r}: give a whole number of days (0 keeps everything)")
    return int(text) or None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision, one process at a time: on PostgreSQL under an advisory lock (replicas
    that start together), on SQLite under an exclusive lock on a file beside the log."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine.dialect.name == "sqlite":  # pysqlite runs DDL outside a transaction: one is opened by hand, so a failed
        with _sqlite_migration_lock(engine), engine.connect() as plain:  # migration leaves nothing half made
            connection = plain.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")
        return
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def _sqlite_migration_lock(engine: Engine):
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    import fcntl

    with open(f"{database}.migrating", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
