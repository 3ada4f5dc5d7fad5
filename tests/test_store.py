"""The decision log on SQLite and on a real PostgreSQL server: what is written, read back, migrated, forgotten,
and that concurrent writers (processes, service replicas) neither lose nor duplicate a record."""

from __future__ import annotations

import copy
import json
import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dealcoach.cli import cli
from dealcoach.engine import api
from dealcoach.service.app import Settings, create_app
from dealcoach.store import StoreError, decision_of, open_store
from dealcoach.store.log import store_url

from helpers import EXAMPLE_EN, EXAMPLE_ZH, ROOT, free_port, read_yaml, wait_until_answering

COACH = api.coach()
COMPANY = ROOT / "examples" / "company-playbook"


def decision(deal: dict, kind: str = "review", to: str | None = None, logged_at: dt.datetime | None = None):
    valid = COACH.deal(deal)
    result = COACH.gate(valid, to) if kind == "gate" else COACH.review(valid)
    return decision_of(result, valid, decision_id=str(uuid.uuid4()), caller="test", playbook_digest=COACH.playbook.version_tag,
                       logged_at=logged_at)


def week(deal: dict, days: int, **changes) -> dict:
    """The deal `days` later, with some fields changed."""
    later = copy.deepcopy(deal)
    later["as_of"] = (dt.date.fromisoformat(str(deal["as_of"])) + dt.timedelta(days=days)).isoformat()
    later.update(changes)
    return later


def test_a_decision_reads_back_as_written(store_location: str) -> None:
    store = open_store(store_location)
    written = decision(read_yaml(EXAMPLE_ZH))
    store.record(written)
    found = store.decision(written.id)
    assert found == written  # the deal, the digest, every finding with rank and fold, the rule-set version, the caller
    assert found.logged_at.tzinfo is not None and found.findings and any(f.folded for f in found.findings) in (True, False)
    assert [f.rank for f in found.findings] == [f.rank for f in COACH.review(written.deal).findings]
    assert store.count() == {"decisions": 1, "findings": len(written.findings), "runs": 0, "outcomes": 0}
    assert COACH.deal(found.deal) == COACH.deal(read_yaml(EXAMPLE_ZH))  # the deal as evaluated can be evaluated again


def test_newest_decisions_per_deal_and_before_a_date(store_location: str) -> None:
    store = open_store(store_location)
    zh, en = read_yaml(EXAMPLE_ZH), read_yaml(EXAMPLE_EN)
    first, second, other = decision(zh), decision(week(zh, 7)), decision(en)
    store.record_many([second, first, other])
    assert [d.id for d in store.deal_decisions(first.deal_id)] == [first.id, second.id]
    assert store.latest(first.deal_id).id == second.id
    assert store.latest(first.deal_id, before=second.as_of).id == first.id
    assert store.latest(first.deal_id, before=first.as_of) is None
    assert {d.id for d in store.latest_per_deal()} == {second.id, other.id}
    assert {d.id for d in store.latest_per_deal(since=second.as_of)} == {second.id} | ({other.id} if other.as_of >= second.as_of else set())


def test_the_migrations_create_exactly_the_tables_the_code_uses(store_location: str) -> None:
    """Alembic's autogenerate finds nothing to change between the migrated schema and store/tables.py."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from dealcoach.store.tables import metadata

    store = open_store(store_location)
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    open_store(store_location).count()  # opening an up-to-date log again migrates nothing and fails nothing


WRITER = """
import copy, datetime as dt, sys, time, uuid
sys.path.insert(0, sys.argv[4])
from helpers import EXAMPLE_ZH, read_yaml
from dealcoach.engine import api
from dealcoach.store import decision_of, open_store
location, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
coach, deal = api.coach(), read_yaml(EXAMPLE_ZH)
def logged(i):
    later = copy.deepcopy(deal)
    later["as_of"] = (dt.date(2026, 11, 20) + dt.timedelta(days=i)).isoformat()
    later["id"] = f"W{worker}-{i % 7}"
    valid = coach.deal(later)
    return decision_of(coach.review(valid), valid, decision_id=str(uuid.uuid4()), caller="test", playbook_digest="x")
batch = [logged(i) for i in range(count // 2)]
time.sleep(max(0.0, float(sys.argv[5]) - time.time()))  # every process opens the new log at the same moment
store = open_store(location)
store.record_many(batch)
for i in range(count // 2, count):
    store.record(logged(i))
"""


def test_processes_opening_a_new_log_at_once_and_writing_lose_and_duplicate_nothing(store_location: str) -> None:
    tests = str(Path(__file__).resolve().parent)
    start = str(time.time() + 5)
    workers = [subprocess.Popen([sys.executable, "-c", WRITER, store_location, str(n), "40", tests, start], stderr=subprocess.PIPE, text=True)
               for n in range(4)]
    errors = [worker.communicate(timeout=120)[1] for worker in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0], errors
    store = open_store(store_location)
    assert store.count()["decisions"] == 160
    assert len({d.deal_id for d in store.latest_per_deal()}) == 28


def test_forget_removes_every_trace_of_a_deal_and_purge_what_is_past_retention(store_location: str) -> None:
    store = open_store(store_location, retention_days=0)
    zh, en = read_yaml(EXAMPLE_ZH), read_yaml(EXAMPLE_EN)
    old = decision(en, logged_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400))
    store.record_many([decision(zh), decision(week(zh, 7)), old])
    from dealcoach.store import Outcome

    store.record_outcome(Outcome(deal_id=zh["id"], result="lost", closed_on=dt.date(2027, 1, 5), reason="price"))
    assert store.forget(zh["id"])["decisions"] == 2
    assert store.deal_decisions(zh["id"]) == [] and zh["id"] not in store.outcomes()
    with store.engine.connect() as connection:
        names = connection.exec_driver_sql("SELECT deal FROM decisions").scalars().all()
    assert all("陈国华" not in text for text in names)  # a contact's name is gone with the deal
    assert store.purge(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=365)) == 1
    assert store.count()["decisions"] == 0 and store.count()["findings"] == 0


def test_the_retention_period_is_applied_when_decisions_are_written(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DEALCOACH_RETENTION_DAYS", "30")
    store = open_store(str(tmp_path / "log.sqlite3"))
    assert store.retention_days == 30
    store.record(decision(read_yaml(EXAMPLE_EN), logged_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=31)))
    assert store.count()["decisions"] == 0  # written, then past the period: purged by the same write's daily pass
    store.record(decision(read_yaml(EXAMPLE_EN)))
    assert store.count()["decisions"] == 1
    monkeypatch.setenv("DEALCOACH_RETENTION_DAYS", "a year")
    with pytest.raises(StoreError, match="DEALCOACH_RETENTION_DAYS='a year': give a whole number of days"):
        open_store(str(tmp_path / "log.sqlite3"))


@pytest.mark.parametrize(("location", "message"), [
    ("mysql://me@db/deals", "is neither a file path, sqlite:///PATH nor postgresql://"),
    ("", "the decision log's location is empty"),
])
def test_a_location_that_is_not_a_log_is_refused_by_name(location: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        store_url(location)


def test_a_server_that_does_not_answer_is_named_without_its_password() -> None:
    with pytest.raises(StoreError) as raised:
        open_store(f"postgresql://dealcoach:s3cret-pass@127.0.0.1:{free_port()}/deals")
    assert "cannot open the decision log postgresql+psycopg://dealcoach:***@127.0.0.1" in str(raised.value)
    assert "s3cret-pass" not in str(raised.value) and raised.value.exit_code == 9


# -- the command line ----------------------------------------------------------------


@pytest.fixture
def run(monkeypatch, tmp_path):
    monkeypatch.delenv("DEALCOACH_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))

    def invoke(*args: str):
        return CliRunner().invoke(cli, [str(a) for a in args])

    return invoke


def write(tmp_path: Path, name: str, deal: dict) -> Path:
    import yaml

    path = tmp_path / name
    path.write_text(yaml.safe_dump(deal, allow_unicode=True), encoding="utf-8")
    return path


def test_review_and_gate_are_logged_only_when_a_log_is_configured(run, tmp_path, store_location, monkeypatch) -> None:
    assert run("review", EXAMPLE_ZH).exit_code == 0
    assert not (tmp_path / "data").exists()  # no log configured: nothing written anywhere
    assert run("review", EXAMPLE_ZH, "--store", store_location).exit_code == 0
    monkeypatch.setenv("DEALCOACH_STORE", store_location)
    monkeypatch.setenv("DEALCOACH_CALLER", "crm-nightly")
    assert run("gate", EXAMPLE_ZH, "--to", "bidding").exit_code == 1
    logged = open_store(store_location).deal_decisions(read_yaml(EXAMPLE_ZH)["id"])
    assert [(d.kind, d.to_stage, d.allowed) for d in logged] == [("review", None, None), ("gate", "bidding", False)]
    assert logged[0].caller.startswith("cli:") and logged[1].caller == "crm-nightly"
    assert logged[0].ruleset_version == COACH.review(EXAMPLE_ZH).ruleset_version and logged[0].playbook_digest == COACH.playbook.version_tag


def test_review_since_last_compares_with_the_logged_review(run, tmp_path, store_location) -> None:
    deal = read_yaml(EXAMPLE_ZH)
    assert run("review", write(tmp_path, "now.yaml", week(deal, 14)), "--since", "last", "--store", store_location).exit_code == 9
    assert run("review", EXAMPLE_ZH, "--store", store_location).exit_code == 0
    later = week(deal, 14, competitors=[{**c, "incumbent": False} for c in deal["competitors"]])
    result = run("review", write(tmp_path, "later.yaml", later), "--since", "last", "--store", store_location)
    assert result.exit_code == 0, result.output
    assert "与上次评估（2026-11-20，14 天前）相比" in result.output
    cleared = result.output[result.output.index("已解除的风险"):result.output.index("已完成的行动")]
    assert "现供应商" in cleared  # the incumbent's hold is gone since the logged review
    assert run("review", EXAMPLE_ZH, "--since", "missing.yaml").exit_code == 2


def _logged_year(run, tmp_path, store_location) -> dict:
    """The example deal reviewed three times and gated once: it moves from proposal to bidding and loses its incumbent."""
    deal = read_yaml(EXAMPLE_ZH)
    assert run("review", EXAMPLE_ZH, "--store", store_location).exit_code == 0
    assert run("gate", EXAMPLE_ZH, "--to", "bidding", "--store", store_location).exit_code == 1
    rivals = [{**c, "incumbent": False} for c in deal["competitors"]]
    later = week(deal, 19, stage="投标阶段", stage_entered="2026-12-01", competitors=rivals)
    assert run("review", write(tmp_path, "later.yaml", later), "--store", store_location).exit_code == 0
    return later


def test_history_tells_the_moves_the_risks_and_the_days_per_stage(run, tmp_path, store_location) -> None:
    _logged_year(run, tmp_path, store_location)
    text = run("history", "SH-2026-031", "--store", store_location)
    assert text.exit_code == 0, text.output
    assert text.output.startswith("SH-2026-031 二期智能产线改造（MES + 自动化）\n\n- 复盘 2 次、阶段把关 1 次（2026-11-20 至 2026-12-09）\n"
                                  "- 客户：华东精工汽车零部件集团；负责人：周凯\n")
    assert "提案阶段：2026-10-15 进入，停留 47 天" in text.output and "投标阶段：2026-12-01 进入，至今 8 天" in text.output
    assert "申请推进到「投标阶段」：被拦下" in text.output
    assert ("- 2026-12-09  我方阶段：提案阶段 → 投标阶段；2026-11-20 申请推进到这一阶段时被拦下，之后没有放行过——问周凯：推进的依据是什么？\n"
            "    · 阶段变了才不再提示（事情未必办了）：现供应商没松动（本地集成商金川自动化）\n") in text.output  # the rule does not look at bidding
    assert "competitor:" not in text.output and "wang" not in text.output  # people and rivals by name
    english = run("history", "SH-2026-031", "--store", store_location, "--lang", "en", "--format", "markdown").output
    assert "**Time at each stage**" in english and "- Proposal: entered 2026-10-15, 47 days" in english
    data = __import__("json").loads(run("history", "SH-2026-031", "--store", store_location, "--format", "json").output)
    assert [s["days"] for s in data["stages"]] == [47, 8] and data["events"][-1]["stage_from"]["id"] == "proposal"
    missing = run("history", "NO-SUCH-DEAL", "--store", store_location)
    assert missing.exit_code == 9 and "no decision of deal 'NO-SUCH-DEAL' is logged" in missing.output


def neutral_supporter() -> dict:
    """The state-owned grid deal whose one core-circle supporter turned neutral: the company playbook's HX101 fires."""
    soe = read_yaml(ROOT / "examples" / "grid-monitoring-soe.zh.yaml")
    soe["contacts"] = [{**c, "stance": "中立"} if c["id"] == "xu" else c for c in soe["contacts"]]
    return soe


def test_replay_gives_the_same_answer_under_the_same_rules_and_names_what_a_new_playbook_changes(run, tmp_path, store_location) -> None:
    store = open_store(store_location)
    written = decision(neutral_supporter())
    store.record(written)
    same = run("replay", written.id, "--store", store_location)
    assert same.exit_code == 0 and "现行规则集给出的结论和当时一样。" in same.output and "现行规则集的评估如下" in same.output
    changed = run("replay", written.id, "--store", store_location, "--playbook", COMPANY, "--format", "json")
    data = __import__("json").loads(changed.output)
    assert data["same"] is False and data["ruleset_then"] != data["ruleset_now"]
    assert [s["code"] for s in data["appeared"]] == ["HX101"]  # the company's rule: SOE over 5M, no supporter in the core circle
    assert run("replay", "no-such-id", "--store", store_location).exit_code == 9


def test_diff_rules_names_per_rule_the_deals_where_it_would_appear_or_clear(run, store_location) -> None:
    store = open_store(store_location)
    examples = [read_yaml(path) for path in sorted((ROOT / "examples").glob("*.yaml")) if "grid" not in path.name] + [neutral_supporter()]
    store.record_many([decision(deal) for deal in examples])
    expected: dict[str, set[str]] = {}
    new = api.coach(COMPANY)
    for deal in examples:
        before = {(f.code, f.subject, f.severity) for f in COACH.review(deal).findings}
        after = {(f.code, f.subject, f.severity) for f in new.review(new.deal(deal)).findings}
        for code, _, _ in before ^ after:
            expected.setdefault(code, set()).add(deal["id"])
    assert expected, "the company playbook changes something on the bundled examples"
    result = run("diff-rules", "--playbook", COMPANY, "--store", store_location, "--format", "json")
    data = __import__("json").loads(result.output)
    found = {rule["code"]: {d["deal_id"] for d in rule["appears"] + rule["clears"]} | {c["deal_id"] for c in rule["severity_changes"]}
             for rule in data["rules"]}
    assert found == expected and data["deals"] == len(examples) and set(found) == {"HX101", "DC505"}
    text = run("diff-rules", "--playbook", COMPANY, "--store", store_location).output
    assert text.startswith(f"新规则集试算：日志里评估过的 {len(examples)} 单，3 单结论会变")
    assert "HX101 国企大单核心圈无支持者\n- 会新出现在 1 单：220kV 变电站在线监测系统（一期 36 座）" in text
    assert "DC505 预算没有客户依据\n- 由提醒改为阻断的 2 单：" in text


def test_forget_on_the_command_line(run, store_location) -> None:
    assert run("review", EXAMPLE_EN, "--store", store_location).exit_code == 0
    gone = run("forget", read_yaml(EXAMPLE_EN)["id"], "--store", store_location)
    assert gone.exit_code == 0 and "removed 1 decisions and 0 outcomes" in gone.output
    assert open_store(store_location).count()["decisions"] == 0
    assert run("forget", "--store", store_location).exit_code == 2
    assert "removed 0 decisions logged more than 30 days ago" in run("forget", "--older-than", "30", "--store", store_location).output


# -- the service ---------------------------------------------------------------------


def test_the_service_logs_every_review_and_gate_with_its_decision_id_and_caller(store_location: str) -> None:
    client = TestClient(create_app(Settings(store=store_location)))
    answer = client.post("/v1/review", json=read_yaml(EXAMPLE_EN), headers={"X-Dealcoach-Caller": "salesforce-flow"})
    gated = client.post("/v1/gate", params={"to": "negotiation"}, json=read_yaml(EXAMPLE_EN))
    assert answer.status_code == gated.status_code == 200
    store = open_store(store_location)
    review, gate = store.decision(answer.json()["decision_id"]), store.decision(gated.json()["decision_id"])
    assert review.caller == "salesforce-flow" and gate.caller == "api:testclient" and gate.kind == "gate"
    assert review.ruleset_version == answer.json()["ruleset_version"].split("+", 1)[0] + "+" + COACH.playbook.version_tag
    assert TestClient(create_app(Settings())).post("/v1/review", json=read_yaml(EXAMPLE_EN)).status_code == 200  # no log: no write


def test_a_decision_the_log_cannot_take_is_not_given(tmp_path) -> None:
    location = str(tmp_path / "log.sqlite3")
    client = TestClient(create_app(Settings(store=location)), raise_server_exceptions=False)
    with open_store(location).engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE findings")  # every write of a decision now fails
    answer = client.post("/v1/review", json=read_yaml(EXAMPLE_EN))
    assert answer.status_code == 503 and answer.json()["title"] == "Decision log unavailable"


def test_two_service_replicas_logging_at_once_lose_and_duplicate_nothing(postgres_url: str, tmp_path) -> None:
    from pg_server import new_database

    location = new_database(postgres_url, f"replicas_{uuid.uuid4().hex[:8]}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEALCOACH_")}
    servers, bases = [], []
    for _ in range(2):
        port = free_port()
        command = [str(Path(sys.executable).with_name("dealcoach")), "serve", "--port", str(port), "--workers", "1", "--store", location,
                   "--no-access-log"]
        servers.append(subprocess.Popen(command, stderr=subprocess.PIPE, env=env, text=True))
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base in bases:
            wait_until_answering(f"{base}/v1/ready")
        deals = [{**read_yaml(EXAMPLE_EN), "id": f"LOAD-{n % 25}"} for n in range(200)]
        with httpx.Client(timeout=60) as client, ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda n: client.post(f"{bases[n % 2]}/v1/review", json=deals[n]), range(len(deals))))
        assert [a.status_code for a in answers] == [200] * len(deals)
        ids = {a.json()["decision_id"] for a in answers}
        assert len(ids) == len(deals)
        first, second = (a.json()["report"] for a in answers[:2])
        assert first["findings"] == second["findings"]  # both replicas answer alike
        store = open_store(location)
        assert store.count()["decisions"] == len(deals)
        with store.engine.connect() as connection:
            logged = set(connection.exec_driver_sql("SELECT id FROM decisions").scalars())
        assert logged == ids
    finally:
        for server in servers:
            server.terminate()
            server.communicate(timeout=30)


def test_every_reviewed_item_of_a_batch_is_logged_under_the_batch_s_decision_id(tmp_path) -> None:
    location = str(tmp_path / "log.sqlite3")
    client = TestClient(create_app(Settings(store=location)))
    answer = client.post("/v1/review/batch", json={"deals": [read_yaml(EXAMPLE_EN), {"id": "broken"}, read_yaml(EXAMPLE_ZH)]})
    assert answer.status_code == 200
    batch = answer.json()["decision_id"]
    store = open_store(location)
    assert store.count()["decisions"] == 2  # the invalid item is not a decision
    assert store.decision(f"{batch}/0").deal_id == read_yaml(EXAMPLE_EN)["id"] and store.decision(f"{batch}/2").deal_id == "SH-2026-031"
    record = json.loads((ROOT / "examples" / "crm" / "salesforce-query.json").read_text(encoding="utf-8"))
    page = client.post("/v1/crm/salesforce/review/batch", params={"as_of": "2026-11-20"}, json=record)
    assert page.status_code == 200
    reviewed = [item for item in page.json()["results"] if item["ok"]]
    assert reviewed and store.count()["decisions"] == 2 + len(reviewed)


def test_the_log_over_http_a_decision_a_history_and_forgetting_a_deal(tmp_path) -> None:
    client = TestClient(create_app(Settings(store=str(tmp_path / "log.sqlite3"))))
    first = client.post("/v1/review", json=read_yaml(EXAMPLE_ZH)).json()["decision_id"]
    client.post("/v1/review", json=week(read_yaml(EXAMPLE_ZH), 7, competitors=[{**c, "incumbent": False}
                                                                              for c in read_yaml(EXAMPLE_ZH)["competitors"]]))
    decision = client.get(f"/v1/log/decisions/{first}").json()
    assert decision["deal"]["id"] == "SH-2026-031" and decision["findings"] and decision["caller"] == "api:testclient"
    timeline = client.get("/v1/log/deals/SH-2026-031/history").json()
    assert timeline["decisions"] == 2 and [r["code"] for r in timeline["events"][1]["cleared"]] == ["DC512"]
    assert timeline["events"][1]["past_blocked_gate"] is None and timeline["events"][1]["left_behind"] == []  # no gate asked, same stage
    assert client.get("/v1/log/deals/SH-2026-031/history", params={"since": "2026-11-21"}).json()["decisions"] == 1
    assert client.get("/v1/log/deals/NOPE/history").status_code == 404 and client.get("/v1/log/decisions/nope").status_code == 404
    assert client.delete("/v1/log/deals/SH-2026-031").status_code == 422  # confirm=true is required
    refused = client.delete("/v1/log/deals/SH-2026-031/history", params={"confirm": "true"})
    assert refused.status_code == 405 and refused.headers["allow"] == "GET"  # a history is read, not deleted
    gone = client.delete("/v1/log/deals/SH-2026-031", params={"confirm": "true"}).json()
    assert gone["decisions"] == 2 and client.get(f"/v1/log/decisions/{first}").status_code == 404
    unlogged = TestClient(create_app(Settings())).get("/v1/log/decisions/x")
    assert unlogged.status_code == 503 and unlogged.json()["title"] == "No decision log"


def test_a_review_with_no_log_configured_does_not_import_the_database_layer() -> None:
    code = ("import sys; from click.testing import CliRunner; from dealcoach.cli import cli; "
            f"result = CliRunner().invoke(cli, ['review', {str(EXAMPLE_ZH)!r}]); assert result.exit_code == 0, result.output; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'psycopg')))")
    env = {k: v for k, v in os.environ.items() if k != "DEALCOACH_STORE"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_outcomes_over_http_and_from_a_crm_s_closed_records(tmp_path, monkeypatch) -> None:
    location = str(tmp_path / "log.sqlite3")
    client = TestClient(create_app(Settings(store=location)))
    lost = {"deal_id": "SH-2026-031", "result": "lost", "closed_on": "2026-12-18", "reason": "价格高于对手 12%"}
    answer = client.post("/v1/outcomes", json=lost, headers={"X-Dealcoach-Caller": "crm-flow"})
    assert answer.status_code == 200 and answer.json()["changed"] is True and answer.json()["source"] == "crm-flow"
    assert client.post("/v1/outcomes", json=lost).json()["changed"] is False
    wrong = client.post("/v1/outcomes", json={**lost, "result": "tie"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["path"] == "result"
    assert open_store(location).outcomes()["SH-2026-031"].reason == "价格高于对手 12%"
    few = client.get("/v1/log/outcomes").json()
    # an outcome with no review logged before its close is recorded, not counted
    assert few["status"] == "not_enough_outcomes" and few["recorded"] == 1 and few["deals"] == 0
    # `sync --store` records the closed records of a CRM answer too (here without sending: the local CRM stand-in answers)
    from crm_server import SALESFORCE_TOKEN, Crm, crm_server

    with crm_server(Crm()) as base:
        monkeypatch.setenv("DEALCOACH_SALESFORCE_URL", f"{base}/salesforce")
        monkeypatch.setenv("DEALCOACH_SALESFORCE_TOKEN", SALESFORCE_TOKEN)
        monkeypatch.delenv("DEALCOACH_CRM_CONFIG", raising=False)
        done = CliRunner().invoke(cli, ["sync", str(ROOT / "examples" / "crm" / "salesforce-query.json"), "--from", "salesforce",
                                        "--as-of", "2026-11-20", "--store", location])
    assert done.exit_code == 0, done.output
    store = open_store(location)
    closed = {deal_id: o.result for deal_id, o in store.outcomes().items() if o.source == "salesforce"}
    assert closed and set(closed.values()) <= {"won", "lost"}
    assert "outcome: " in done.output and store.count()["decisions"] >= 1  # the reviews sync made are logged as well


# -- what a second reading found -------------------------------------------------------------


def test_any_deal_the_model_takes_is_logged_on_either_database(store_location: str) -> None:
    deal = read_yaml(EXAMPLE_EN)
    deal.update(owner="O" * 400, name="Line\x00feed retrofit")  # long, and with a NUL (PostgreSQL text cannot hold one)
    written = decision(deal)
    store = open_store(store_location)
    store.record(written)
    found = store.decision(written.id)
    assert found.digest.owner == "O" * 400 and found.deal["name"] == "Line\x00feed retrofit"  # the JSON keeps it exactly
    assert store.decision("no\x00such") is None and store.deal_decisions("no\x00such") == []


def test_writers_racing_on_one_deal_s_outcome_never_collide(store_location: str) -> None:
    from dealcoach.store import Outcome

    store = open_store(store_location)

    def record(n: int) -> bool:
        return store.record_outcome(Outcome(deal_id=f"D{n % 3}", result="lost" if n % 2 else "won", closed_on=dt.date(2026, 12, 1)))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(record, range(120)))
    assert sorted(store.outcomes()) == ["D0", "D1", "D2"]


def test_ids_with_a_slash_are_reachable_over_http(tmp_path) -> None:
    client = TestClient(create_app(Settings(store=str(tmp_path / "log.sqlite3"))))
    odoo = {**read_yaml(EXAMPLE_EN), "id": "crm.lead/7"}
    batch = client.post("/v1/review/batch", json={"deals": [odoo]}).json()["decision_id"]
    assert client.get(f"/v1/log/decisions/{batch}/0").json()["deal_id"] == "crm.lead/7"
    assert client.get("/v1/log/deals/crm.lead/7/history").json()["deal_id"] == "crm.lead/7"
    assert client.get("/v1/log/deals/crm.lead%2F7/history").status_code == 200
    assert client.delete("/v1/log/deals/crm.lead/7", params={"confirm": "true"}).json()["decisions"] == 1


def test_a_password_in_the_query_and_a_bad_port_are_named_safely() -> None:
    from dealcoach.store.log import shown_url

    assert shown_url("postgresql+psycopg://u@db:5432/deals?password=s3cret&sslmode=require") == \
        "postgresql+psycopg://u@db:5432/deals?password=%2A%2A%2A&sslmode=require"  # *** escaped
    with pytest.raises(StoreError) as raised:
        open_store("postgresql://u:s3cret@db:notaport/deals")
    assert "s3cret" not in str(raised.value) and raised.value.exit_code == 9


def test_a_log_migrated_by_a_newer_dealcoach_is_named_not_an_internal_error(tmp_path) -> None:
    location = str(tmp_path / "log.sqlite3")
    with open_store(location).engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    with pytest.raises(StoreError, match="a newer dealcoach migrated it: upgrade dealcoach"):
        open_store(location)


def test_forget_leaves_no_copy_of_a_name_in_the_sqlite_files(tmp_path) -> None:
    location = tmp_path / "log.sqlite3"
    store = open_store(str(location))
    store.record(decision(read_yaml(EXAMPLE_ZH)))
    store.forget("SH-2026-031")  # while this process still holds the log open, as the service does
    for path in tmp_path.glob("log.sqlite3*"):
        assert "陈国华".encode() not in path.read_bytes(), path.name


def test_a_purge_that_fails_does_not_fail_the_write_before_it(tmp_path, caplog) -> None:
    store = open_store(str(tmp_path / "log.sqlite3"), retention_days=30)
    with store.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE runs RENAME TO runs_elsewhere")  # the purge now fails
    store.record(decision(read_yaml(EXAMPLE_EN)))  # logged, and no error for it
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM decisions").scalar_one() == 1
    assert "the retention period could not be applied now" in caplog.text


def test_a_gate_a_webhook_logs_never_stands_for_the_deal_s_latest_review(store_location: str) -> None:
    store = open_store(store_location)
    deal = read_yaml(EXAMPLE_ZH)
    review = decision(deal)
    gate = decision(deal, "gate", "bidding", logged_at=review.logged_at + dt.timedelta(seconds=1))  # logged after the review
    store.record_many([review, gate])
    assert store.latest(deal["id"]).id == review.id and [d.id for d in store.latest_per_deal()] == [review.id]


def test_the_log_s_endpoints_keep_the_service_s_time_limit(tmp_path, monkeypatch) -> None:
    import time as clock

    from dealcoach.service import decision_log

    def slow_report(*args, **kwargs):
        clock.sleep(1.0)

    monkeypatch.setattr(decision_log, "report", slow_report)
    client = TestClient(create_app(Settings(store=str(tmp_path / "log.sqlite3"), timeout_seconds=0.2)))
    answer = client.get("/v1/log/outcomes")
    assert answer.status_code == 504


def test_a_first_migration_that_fails_midway_leaves_nothing_half_made(store_location: str, monkeypatch) -> None:
    from alembic.operations import Operations

    real = Operations.create_table

    def failing(self, name, *columns, **options):
        if name == "outcomes":  # the last table of 0001: decisions, findings and runs already made
            raise RuntimeError("the disk went away")
        return real(self, name, *columns, **options)

    monkeypatch.setattr(Operations, "create_table", failing)
    with pytest.raises(RuntimeError, match="the disk went away"):
        open_store(store_location)
    monkeypatch.setattr(Operations, "create_table", real)
    assert open_store(store_location).count() == {"decisions": 0, "findings": 0, "runs": 0, "outcomes": 0}  # migrates afresh
