"""The HTTP decision service: versioned endpoints, problem+json errors, limits, token."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import dealcoach
from dealcoach.engine.coach import Coach
from dealcoach.rules import catalog
from dealcoach.service.app import Settings, create_app

from helpers import EXAMPLE_ZH, EXAMPLES, base_deal, free_port, read_yaml, wait_until_answering

DEAL = read_yaml(EXAMPLE_ZH)


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(max_body_bytes=200_000, max_batch=5)), raise_server_exceptions=False)


def test_review_matches_the_python_api(client) -> None:
    answer = client.post("/v1/review", json=DEAL)
    assert answer.status_code == 200
    body = answer.json()
    assert body["decision_id"] and body["ruleset_version"] == dealcoach.review(DEAL).ruleset_version
    expected = json.loads(dealcoach.review(DEAL).model_dump_json())
    assert body["report"] == expected


def test_review_in_a_language(client) -> None:
    body = client.post("/v1/review?lang=en", json=DEAL).json()
    assert body["report"]["language"] == "en" and body["report"]["findings"][0]["text"]["clears"]


def test_blocked_gate_is_a_normal_answer(client) -> None:
    answer = client.post("/v1/gate", params={"to": "投标阶段", "lang": "zh"}, json=DEAL)
    assert answer.status_code == 200
    gate = answer.json()["gate"]
    assert gate["allowed"] is False and gate["unmet_milestones"] and gate["blocking"][0]["text"]["title"]


def test_unknown_stage_is_a_problem_naming_the_field(client) -> None:
    answer = client.post("/v1/gate", params={"to": "closing"}, json=DEAL)
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"][0]["path"] == "to"


def test_invalid_deal_is_problem_json_with_paths(client) -> None:
    deal = base_deal()
    deal["contacts"] = [{"id": "a", "name": "甲", "power": "很大"}]
    del deal["as_of"]
    answer = client.post("/v1/review", json=deal)
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")
    paths = {e["path"]: e["message"] for e in answer.json()["errors"]}
    assert paths["as_of"] == "required field is missing"
    assert "'很大' is not a power circle" in paths["contacts[0].power"]
    deal = base_deal()
    deal["stage"] = "closing"
    assert client.post("/v1/review", json=deal).json()["errors"][0]["path"] == "stage"


def test_malformed_json_and_no_stack_traces(client) -> None:
    answer = client.post("/v1/review", content=b'{"id": ', headers={"content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["title"] == "Malformed JSON"
    assert "Traceback" not in answer.text


def test_batch_reviews_good_deals_and_reports_bad_ones(client) -> None:
    deals = [read_yaml(p) for p in EXAMPLES[:3]] + [{"id": "bad"}]
    body = client.post("/v1/review/batch", json={"deals": deals}).json()
    assert [r["ok"] for r in body["results"]] == [True, True, True, False]
    assert body["results"][3]["deal_id"] == "bad" and body["results"][3]["errors"]


def test_limits(client) -> None:
    too_many = client.post("/v1/review/batch", json={"deals": [DEAL] * 6})
    assert too_many.status_code == 413 and "limit is 5" in too_many.json()["detail"]
    huge = dict(DEAL, name="x" * 300_000)
    assert client.post("/v1/review", json=huge).status_code == 413


def test_timeout_is_a_504(monkeypatch) -> None:
    import time


    slow = TestClient(create_app(Settings(timeout_seconds=0.2)), raise_server_exceptions=False)
    monkeypatch.setattr(Coach, "review", lambda *a, **k: time.sleep(1))
    answer = slow.post("/v1/review", json=DEAL)
    assert answer.status_code == 504 and answer.json()["title"] == "Timed out"


def test_rules_schema_health_and_openapi(client) -> None:
    rules = client.get("/v1/rules").json()
    assert [r["code"] for r in rules] == sorted(catalog().findings)
    assert client.get("/v1/rules/sponsors-but-blind").json()["code"] == "DC406"
    assert client.get("/v1/rules/DC000").status_code == 404
    assert client.get("/v1/schema").json()["title"] == "Deal"
    assert client.get("/v1/health").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert {"/v1/review", "/v1/gate", "/v1/review/batch", "/v1/rules", "/v1/schema", "/v1/health"} <= set(spec["paths"])
    assert "Deal" in spec["components"]["schemas"] and "Report" in spec["components"]["schemas"]


def test_bearer_token() -> None:
    guarded = TestClient(create_app(Settings(token="s3cret")), raise_server_exceptions=False)
    assert guarded.get("/v1/health").status_code == 200
    refused = guarded.post("/v1/review", json=DEAL)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert guarded.post("/v1/review", json=DEAL, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.post("/v1/review", json=DEAL, headers={"Authorization": "Bearer s3cret"}).status_code == 200


@pytest.mark.exhaustive
def test_many_concurrent_clients_against_real_worker_processes(tmp_path) -> None:
    """`dealcoach serve --workers 2`: 240 concurrent requests, every answer equal to the deal reviewed alone."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    import httpx

    port = free_port()
    cli = str(Path(sys.executable).with_name("dealcoach"))
    server = subprocess.Popen([cli, "serve", "--port", str(port), "--workers", "2"], stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{base}/v1/health", tries=100)
        deals = [read_yaml(p) for p in EXAMPLES]
        expected = [json.loads(dealcoach.review(d).model_dump_json()) for d in deals]

        def call(index: int) -> bool:
            with httpx.Client(base_url=base, timeout=30) as http:
                answer = http.post("/v1/review", json=deals[index % len(deals)])
                return answer.status_code == 200 and answer.json()["report"] == expected[index % len(deals)]

        with ThreadPoolExecutor(12) as pool:
            outcomes = list(pool.map(call, range(240)))
        assert all(outcomes), f"{outcomes.count(False)} wrong answers"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_crm_records_over_http(client) -> None:
    from helpers import HERE

    opportunity = json.loads((HERE / "crm" / "salesforce-opportunity.json").read_text(encoding="utf-8"))
    review = client.post("/v1/crm/salesforce/review", params={"as_of": "2026-11-20"}, json=opportunity)
    assert review.status_code == 200 and review.json()["report"]["deal_id"] == opportunity["Id"]
    gate = client.post("/v1/crm/salesforce/gate", params={"as_of": "2026-11-20", "to": "bidding"}, json=opportunity)
    assert gate.status_code == 200 and gate.json()["gate"]["allowed"] is False
    opportunity["StageName"] = "Closed Lost"
    unmapped = client.post("/v1/crm/salesforce/review", params={"as_of": "2026-11-20"}, json=opportunity)
    assert unmapped.status_code == 422 and unmapped.json()["errors"][0]["path"] == "StageName"
    assert client.post("/v1/crm/salesforce/review", json=opportunity).status_code == 422  # as_of is required
    assert client.post("/v1/crm/sap/review", params={"as_of": "2026-11-20"}, json={}).status_code == 404  # an unknown CRM is not found
