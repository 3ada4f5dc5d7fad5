"""The service and the CRM adapters under hostile or broken input: every answer complete, specific and documented.

Connection-level behaviour (keep-alive after an error, chunked bodies, raw header bytes, the time limit) is
checked against a real uvicorn server (tests/live_server.py).
"""

from __future__ import annotations

import http.client
import json
import threading

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dealcoach.cli import cli
from dealcoach.engine.coach import Coach
from dealcoach.engine.errors import RuleError
from dealcoach.service.app import Settings, create_app

from helpers import EXAMPLE_EN, HERE, read_yaml
from live_server import exchange, live_server

DEAL = read_yaml(EXAMPLE_EN)
TOKEN = "Xk3-rT9_vQ2.pL8~mZ5+wN7/"
JSON = {"Content-Type": "application/json"}


def crm_record(kind: str) -> dict:
    name = {"salesforce": "salesforce-opportunity", "hubspot": "hubspot-deal", "odoo": "odoo-lead"}[kind]
    return json.loads((HERE / "crm" / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(token=TOKEN, max_body_bytes=50_000, max_batch=10)), raise_server_exceptions=False)


AUTH = {"Authorization": f"Bearer {TOKEN}"}


# -- serve: the bearer token --------------------------------------------------------


@pytest.fixture
def serve_command(monkeypatch):
    """`dealcoach serve` that stops where it would start uvicorn; yields the calls it would have made."""
    import uvicorn

    for key in ("DEALCOACH_API_TOKEN", "DEALCOACH_PLAYBOOK", "DEALCOACH_MAX_BODY_BYTES", "DEALCOACH_MAX_BATCH",
                "DEALCOACH_TIMEOUT_SECONDS", "DEALCOACH_MAPPINGS"):
        monkeypatch.setenv(key, "placeholder")  # so that whatever serve sets is undone after the test
        monkeypatch.delenv(key)
    started: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append(kwargs))
    return started


@pytest.mark.parametrize("content", ["", "   ", "\n", " \t\n\n"])
def test_serve_refuses_an_empty_token_file(serve_command, tmp_path, content) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cli, ["serve", "--token-file", str(token_file)])
    assert result.exit_code == 2 and not serve_command
    assert f"token file {token_file} is empty" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("two words-and-enough-characters", "' ' inside the token is not allowed"),
        ("line-one-of-token\nline-two-of-token", "'\\n' inside the token is not allowed"),
        ("clé-avec-des-accents-assez-longue", "'é' inside the token is not allowed"),
        ("abc=defghijklmnopqrstu", "'=' before the end of the token is not allowed"),
        ("short-token", "the token has 11 characters"),
    ],
)
def test_serve_refuses_a_token_no_client_could_send_or_too_short(serve_command, tmp_path, content, message) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(content + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["serve", "--token-file", str(token_file)])
    assert result.exit_code == 2 and not serve_command
    assert f"token file {token_file}" in result.output and message in result.output
    assert "at least 16 characters" in result.output


def test_serve_refuses_a_blank_token_variable(serve_command) -> None:
    result = CliRunner().invoke(cli, ["serve"], env={"DEALCOACH_API_TOKEN": "  "})
    assert result.exit_code == 2 and not serve_command
    assert "DEALCOACH_API_TOKEN is empty" in result.output


def test_serve_refuses_a_token_file_that_is_not_text(serve_command, tmp_path) -> None:
    token_file = tmp_path / "token"
    token_file.write_bytes(b"\xff\xfe\x00binary")
    result = CliRunner().invoke(cli, ["serve", "--token-file", str(token_file)])
    assert result.exit_code == 2 and not serve_command
    assert f"cannot read the token file {token_file}" in result.output


def test_serve_hands_a_valid_token_to_its_workers(serve_command, tmp_path) -> None:
    import os

    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["serve", "--token-file", str(token_file)])
    assert result.exit_code == 0 and len(serve_command) == 1
    assert os.environ["DEALCOACH_API_TOKEN"] == TOKEN and Settings.from_env().token == TOKEN


def test_serve_without_a_token_leaves_none_for_its_workers(serve_command) -> None:
    import os

    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 0 and len(serve_command) == 1
    assert "DEALCOACH_API_TOKEN" not in os.environ and Settings.from_env().token is None


def test_serve_refuses_a_broken_mapping_before_starting(serve_command, tmp_path) -> None:
    (tmp_path / "salesforce.yaml").write_text("crm: salesforce\nstages: [Prospecting]\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["serve", "--mappings", str(tmp_path)])
    assert result.exit_code == 3 and not serve_command
    assert str(tmp_path / "salesforce.yaml") in result.output and "stages" in result.output


def test_a_worker_refuses_a_blank_token_variable(monkeypatch) -> None:
    from dealcoach.service.settings import TokenError

    monkeypatch.setenv("DEALCOACH_API_TOKEN", "")
    with pytest.raises(TokenError, match="DEALCOACH_API_TOKEN is empty"):
        Settings.from_env()


# -- CRM records of the wrong shape ------------------------------------------------------


WRONG_SHAPES = [
    ("salesforce", lambda r: r.update(StageName=["x"]), "StageName", "expected text, got a list"),
    ("salesforce", lambda r: r.update(OpportunityContactRoles={"records": [1]}), "OpportunityContactRoles[0]", "expected an object, got a number"),
    ("salesforce", lambda r: r["OpportunityContactRoles"].update(records="x"), "OpportunityContactRoles.records", "expected a list, got text"),
    ("salesforce", lambda r: r.update(Account="Apex"), "Account", "expected an object, got text"),
    ("salesforce", lambda r: r.update(Amount={"value": 1}), "Amount", "expected a number, got an object"),
    ("salesforce", lambda r: r.update(CloseDate="soon"), "CloseDate", "expected a date"),
    ("hubspot", lambda r: r.update(deal="x"), "deal", "expected an object, got text"),
    ("hubspot", lambda r: r["deal"]["properties"].update(amount="lots"), "deal.properties.amount", "expected a number, got the text 'lots'"),
    ("hubspot", lambda r: r["associations"][0]["associationTypes"][1].update(label=["Decision maker"]),
     "associations[0].associationTypes[1].label", "expected text, got a list"),
    ("hubspot", lambda r: r.update(contacts={"901": {}}), "contacts", "expected a list, got an object"),
    ("odoo", lambda r: r.update(stage_id="Qualified"), "stage_id", 'expected [id, "name"] or false, got text'),
    ("odoo", lambda r: r.update(contact_name=7), "contact_name", "expected text, got a number"),
    ("odoo", lambda r: r.update(expected_revenue=True), "expected_revenue", "expected a number, got true/false"),
]


@pytest.mark.parametrize(("kind", "change", "path", "message"), WRONG_SHAPES)
def test_a_crm_record_of_the_wrong_shape_is_a_422_naming_the_field(client, kind, change, path, message) -> None:
    record = crm_record(kind)
    change(record)
    answer = client.post(f"/v1/crm/{kind}/review", params={"as_of": "2026-11-20"}, json=record, headers=AUTH)
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["title"] == "Invalid CRM record"
    assert any(e["path"] == path and message in e["message"] for e in body["errors"]), body["errors"]


@pytest.mark.parametrize(("kind", "change", "path", "message"), WRONG_SHAPES[:3] + WRONG_SHAPES[6:7])
def test_a_crm_record_of_the_wrong_shape_is_exit_3_naming_the_field(tmp_path, kind, change, path, message) -> None:
    record = crm_record(kind)
    change(record)
    source = tmp_path / "record.json"
    source.write_text(json.dumps(record), encoding="utf-8")
    result = CliRunner().invoke(cli, ["review", "--from", kind, "--as-of", "2026-11-20", str(source)])
    assert result.exit_code == 3, result.output
    assert f"{path}: {message}" in result.output and "Traceback" not in result.output


# -- titles of errors that are not about the deal -------------------------------------------


def test_a_bad_query_parameter_is_titled_as_one(client) -> None:
    answer = client.post("/v1/review", params={"lang": "fr"}, json=DEAL, headers=AUTH)
    assert answer.status_code == 422 and answer.json()["title"] == "Invalid parameter"
    assert answer.json()["errors"][0]["path"] == "query.lang" and "'zh' or 'en'" in answer.json()["detail"]


def test_an_unknown_crm_is_not_found(client) -> None:
    answer = client.post("/v1/crm/pipedrive/review", params={"as_of": "2026-11-20"}, json={}, headers=AUTH)
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
    assert "pipedrive" in answer.json()["detail"] and "salesforce" in answer.json()["detail"]


# -- the bearer token on the wire ------------------------------------------------------------


@pytest.mark.parametrize("value", [b"Bearer \xc3\xa9", b"Bearer \xff\xfe", "Bearer é".encode("latin-1"), b"\xc3\xa9 " + TOKEN.encode()])
def test_a_non_ascii_authorization_header_is_a_401(client, value) -> None:
    answer = client.post("/v1/review", json=DEAL, headers=[(b"authorization", value)])
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["title"] == "Unauthorised"


def test_the_token_still_opens_the_service(client) -> None:
    assert client.post("/v1/review", json=DEAL, headers=AUTH).status_code == 200


# -- keep-alive after errors (a real server) --------------------------------------------------------


def _fail_on(deal_id: str, error: Exception):
    real_review = Coach.review

    def review(self, deal, **kwargs):
        if (deal.get("id") if isinstance(deal, dict) else getattr(deal, "id", None)) == deal_id:
            raise error
        return real_review(self, deal, **kwargs)

    return review


@pytest.mark.parametrize("http_protocol", ["httptools", "h11"])
def test_after_a_500_the_same_connection_answers_the_next_request(monkeypatch, http_protocol) -> None:
    monkeypatch.setattr(Coach, "review", _fail_on("boom", RuntimeError("a bug")))
    with live_server(create_app(Settings(token=TOKEN)), http=http_protocol) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {**JSON, **AUTH}
        status, answer_headers, body = exchange(connection, "POST", "/v1/review", json.dumps(dict(DEAL, id="boom")), headers)
        assert status == 500 and json.loads(body)["title"] == "Internal error"
        assert answer_headers["content-type"] == "application/problem+json"
        socket_used = connection.sock
        bad_auth = {**JSON, "Authorization": "Bearer \xc3\xa9"}
        assert exchange(connection, "POST", "/v1/review", json.dumps(DEAL), bad_auth)[0] == 401
        status, _, body = exchange(connection, "POST", "/v1/review", json.dumps(DEAL), headers)
        assert status == 200 and json.loads(body)["report"]["deal_id"] == DEAL["id"]
        assert connection.sock is socket_used  # the same connection, never re-opened
        connection.close()


# -- bodies over the limit, declared or chunked ----------------------------------------------------


def _chunks(total: int, size: int = 4096):
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


@pytest.mark.parametrize("http_protocol", ["httptools", "h11"])
def test_a_body_over_the_limit_is_a_413_chunked_or_not_and_the_connection_goes_on(http_protocol) -> None:
    with live_server(create_app(Settings(max_body_bytes=20_000)), http=http_protocol) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for body, headers in ((b" " * 30_000, JSON), (_chunks(30_000), JSON)):
            status, answer_headers, answer = exchange(connection, "POST", "/v1/review", body, headers)
            assert status == 413 and answer_headers["content-type"] == "application/problem+json"
            assert json.loads(answer)["detail"] == "the limit is 20000 bytes"
            assert answer_headers.get("connection") != "close"
            status, _, answer = exchange(connection, "POST", "/v1/review", json.dumps(DEAL), JSON)
            assert status == 200
        chunked_deal = (json.dumps(DEAL).encode()[i:i + 100] for i in range(0, len(json.dumps(DEAL).encode()), 100))
        assert exchange(connection, "POST", "/v1/review", chunked_deal, JSON)[0] == 200
        connection.close()


# -- a batch answers every item --------------------------------------------------------------


def _batch_body(deals: list) -> str:
    return json.dumps({"deals": deals})  # ensure_ascii: a lone surrogate travels as the escape \ud800


def test_a_batch_item_with_a_lone_surrogate_is_an_error_in_its_place(client) -> None:
    answer = client.post("/v1/review/batch", content=_batch_body([DEAL, {"id": "\ud800"}, DEAL]), headers={**JSON, **AUTH})
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["ok"] for r in results] == [True, False, True]
    assert results[1]["index"] == 1 and results[1]["deal_id"] == "\ufffd" and results[1]["errors"]


def test_a_batch_item_that_is_not_an_object_is_an_error_in_its_place(client) -> None:
    results = client.post("/v1/review/batch", json={"deals": [[1], DEAL, "x", None]}, headers=AUTH).json()["results"]
    assert [r["ok"] for r in results] == [False, True, False, False]
    assert results[0]["errors"] == [{"path": "", "message": "expected a deal (a JSON object), got a list"}]


def test_an_engine_failure_on_one_batch_item_leaves_the_others_answered(monkeypatch) -> None:
    guarded = TestClient(create_app(Settings()), raise_server_exceptions=False)
    monkeypatch.setattr(Coach, "review", _fail_on("boom", RuntimeError("a bug")))
    deals = [DEAL, dict(DEAL, id="boom"), DEAL]
    results = guarded.post("/v1/review/batch", json={"deals": deals}).json()["results"]
    assert [r["ok"] for r in results] == [True, False, True]
    assert results[1]["errors"] == [{"path": "", "message": "unexpected error; the error is logged"}]
    monkeypatch.setattr(Coach, "review", _fail_on("boom", RuleError("rule DC000 failed")))
    results = guarded.post("/v1/review/batch", json={"deals": deals}).json()["results"]
    assert [r["ok"] for r in results] == [True, False, True] and "could not evaluate" in results[1]["errors"][0]["message"]


def test_an_answer_holding_a_lone_surrogate_is_still_valid_utf8_json() -> None:
    from dealcoach.service.problems import json_body, problem
    from dealcoach.engine.errors import InputProblem
    from dealcoach.service.app import BatchItem

    text = json_body(BatchItem(index=0, deal_id="a\ud800b", ok=False, errors=[{"path": "id", "message": "\udfff"}]))
    assert json.loads(text.decode("utf-8"))["deal_id"] == "a\ufffdb"
    refused = problem(422, "Invalid deal", "x\ud800", [InputProblem("name", "\ud800")])
    assert json.loads(refused.body.decode("utf-8"))["errors"][0]["message"] == "\ufffd"


# -- the time limit ---------------------------------------------------------------------------------


@pytest.fixture
def stuck_reviews(monkeypatch):
    """Reviews of the deal "slow" block until the test ends (a runaway evaluation)."""
    release = threading.Event()
    real_review = Coach.review

    def review(self, deal, **kwargs):
        if (deal.get("id") if isinstance(deal, dict) else getattr(deal, "id", None)) == "slow":
            release.wait(60)
        return real_review(self, deal, **kwargs)

    monkeypatch.setattr(Coach, "review", review)
    yield release
    release.set()


def test_over_the_time_limit_the_client_gets_a_504_while_the_work_still_runs(stuck_reviews) -> None:
    app = create_app(Settings(timeout_seconds=0.5, work_threads=2, work_queue=2))
    with live_server(app) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, headers, body = exchange(connection, "POST", "/v1/review", json.dumps(dict(DEAL, id="slow")), JSON)
        assert status == 504 and headers["content-type"] == "application/problem+json"
        assert json.loads(body)["title"] == "Timed out" and not stuck_reviews.is_set()  # answered while the work runs
        assert exchange(connection, "POST", "/v1/review", json.dumps(DEAL), JSON)[0] == 200
        assert exchange(connection, "GET", "/v1/health")[0] == 200
        connection.close()


def test_runaway_work_cannot_pile_up(stuck_reviews) -> None:
    """Two threads: two runaways fill them; the next request is refused at once (503), health still answers."""
    app = create_app(Settings(timeout_seconds=0.5, work_threads=2, work_queue=2))
    with live_server(app) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        slow = json.dumps(dict(DEAL, id="slow"))
        assert [exchange(connection, "POST", "/v1/review", slow, JSON)[0] for _ in range(2)] == [504, 504]
        status, headers, body = exchange(connection, "POST", "/v1/review", json.dumps(DEAL), JSON)
        assert status == 503 and headers["retry-after"] == "1" and "still busy" in json.loads(body)["detail"]
        assert exchange(connection, "GET", "/v1/health")[0] == 200
        connection.close()


def test_a_batch_over_the_time_limit_stops_at_its_next_deal(stuck_reviews) -> None:
    import asyncio

    from dealcoach.service.limits import OverTime, WorkPool

    pool = WorkPool(threads=1, queue_size=0, seconds=0.5)
    steps: list[int] = []
    finished = threading.Event()

    def batch(deadline):
        try:
            for step in range(3):
                if deadline.passed():
                    return steps
                steps.append(step)
                stuck_reviews.wait(60)
        finally:
            finished.set()

    with pytest.raises(OverTime):
        asyncio.run(pool.run(batch))
    stuck_reviews.set()
    assert finished.wait(10) and steps == [0]


def test_a_mapped_list_field_is_copied_not_shared_between_contacts() -> None:
    from dealcoach.crm import convert, load_mapping
    from dealcoach.crm.common import Mapping

    mapping = Mapping.model_validate(load_mapping("salesforce").model_dump() | {"contact_fields": {"roles": "Contact.Roles__c"}})
    record = crm_record("salesforce")
    shared = ["user"]
    for role in record["OpportunityContactRoles"]["records"]:
        role["Contact"]["Roles__c"] = shared
    people = {c["name"]: c for c in convert("salesforce", record, as_of="2026-11-20", mapping=mapping)["contacts"]}
    assert shared == ["user"]  # the caller's record is left as it was
    assert people["Grace Liu"]["roles"] == ["user", "decision_maker"]
    assert people["Tom Okafor"]["roles"] == ["user", "technical_gatekeeper"]


def test_a_caller_without_the_token_gets_401_before_its_body_is_read(client) -> None:
    for body in (b"{bad", b'{"a": 1, "a": 2}', b"[" * 5000):
        answer = client.post("/v1/review", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 401, answer.text
        assert "JSON" not in answer.text and "appears twice" not in answer.text


def test_an_answer_lists_a_bounded_number_of_problems() -> None:
    service = TestClient(create_app(Settings()), raise_server_exceptions=False)
    deal = read_yaml(EXAMPLE_EN)
    deal.update({f"unknown_{n}": n for n in range(5000)})
    answer = service.post("/v1/review", json=deal)
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert len(errors) == 51 and errors[-1]["message"].startswith("... and ") and len(answer.content) < 100_000
