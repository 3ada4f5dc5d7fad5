"""CRM webhooks round trip: a signed HubSpot event, a Salesforce Flow callout or change event, an Odoo automation's
webhook → the deal is read back from the (local, recorded) CRM API, reviewed or gated, and the coaching written
back; the writes are checked field by field. The HubSpot signature is computed here by code of its own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from fastapi.testclient import TestClient

from dealcoach.service.app import Settings, create_app

from crm_server import HUBSPOT_TOKEN, ODOO, SALESFORCE_TOKEN, Crm, crm_server

SECRET = "0b5a2c9e-hubspot-client-secret-4f1d"
SERVICE_TOKEN = "svc-token-0123456789abcdef"
WEBHOOK_TOKEN = "odoo-hook-9f8e7d6c5b4a39281706"
URL = "http://testserver/v1/webhooks/hubspot"


@pytest.fixture()
def crm(monkeypatch):
    crm = Crm()
    with crm_server(crm) as base:
        for name, value in {
            "SALESFORCE_URL": f"{base}/salesforce", "SALESFORCE_TOKEN": SALESFORCE_TOKEN,
            "HUBSPOT_URL": f"{base}/hubspot", "HUBSPOT_TOKEN": HUBSPOT_TOKEN, "HUBSPOT_CLIENT_SECRET": SECRET,
            "ODOO_URL": f"{base}/odoo", "ODOO_DB": ODOO["db"], "ODOO_UID": str(ODOO["uid"]), "ODOO_PASSWORD": ODOO["password"],
        }.items():
            monkeypatch.setenv(f"DEALCOACH_{name}", value)
        monkeypatch.delenv("DEALCOACH_CRM_CONFIG", raising=False)
        yield crm


@pytest.fixture()
def client(crm) -> TestClient:
    return TestClient(create_app(Settings(token=SERVICE_TOKEN, webhook_token=WEBHOOK_TOKEN)))


def signed(body: bytes, *, at_ms: int | None = None, secret: str = SECRET, url: str = URL) -> dict[str, str]:
    timestamp = str(at_ms if at_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), b"POST" + url.encode() + body + timestamp.encode(), hashlib.sha256).digest()
    return {"X-HubSpot-Signature-v3": base64.b64encode(digest).decode(), "X-HubSpot-Request-Timestamp": timestamp,
            "Content-Type": "application/json"}


def stage_event(deal: str, stage: str, event_id: int = 1) -> dict:
    return {"eventId": event_id, "subscriptionId": 2861234, "portalId": 62515, "appId": 1160452, "occurredAt": 1795680000000,
            "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": int(deal), "propertyName": "dealstage",
            "propertyValue": stage, "changeSource": "CRM", "sourceId": "userId:9001"}


def test_a_signed_hubspot_stage_change_is_accepted_at_once_then_gated_and_written_back(client: TestClient, crm: Crm) -> None:
    body = json.dumps([stage_event("18523467955", "contractsent")]).encode()
    response = client.post("/v1/webhooks/hubspot", content=body, headers=signed(body))
    assert response.status_code == 202 and response.json()["deals"] == ["18523467955"]
    client.app.state.webhook_jobs.wait(timeout=30)
    fields, note, tasks, last = crm.written("hubspot")  # written after the answer
    assert fields["path"] == "/crm/v3/objects/deals/18523467955"
    # moved from decisionmakerboughtin (bidding): the date it entered each stage names the stage it left
    assert fields["body"]["properties"]["dealcoach_gate"] == "blocked → 商务谈判阶段"
    assert "商务谈判阶段" in note["body"]["properties"]["hs_note_body"] and "dealcoach_fingerprint" in last["body"]["properties"]


def test_hubspot_refuses_a_bad_signature_an_old_timestamp_and_a_replay(client: TestClient, crm: Crm) -> None:
    body = json.dumps([stage_event("18523467901", "presentationscheduled")]).encode()
    forged = client.post("/v1/webhooks/hubspot", content=body, headers=signed(body, secret="not-the-secret"))
    assert forged.status_code == 401 and "does not match" in forged.json()["detail"]
    stale = client.post("/v1/webhooks/hubspot", content=body, headers=signed(body, at_ms=int(time.time() * 1000) - 6 * 60 * 1000))
    assert stale.status_code == 401 and "five minutes" in stale.json()["detail"]
    headers = signed(body)
    assert client.post("/v1/webhooks/hubspot", content=body, headers=headers).status_code == 202
    client.app.state.webhook_jobs.wait(timeout=30)
    replay = client.post("/v1/webhooks/hubspot", content=body, headers=headers)
    assert replay.status_code == 409 and replay.headers["content-type"] == "application/problem+json"
    retried = client.post("/v1/webhooks/hubspot", content=body, headers=signed(body, at_ms=int(time.time() * 1000) + 1))
    assert retried.status_code == 202 and retried.json()["deals"] == []  # HubSpot's retry, newly signed: the event is not done twice
    client.app.state.webhook_jobs.wait(timeout=30)
    assert len(crm.written("hubspot")) == 4  # the first delivery only: fields, note, tasks, fingerprint


def test_a_hubspot_body_changed_in_transit_fails_the_signature(client: TestClient) -> None:
    body = json.dumps([stage_event("18523467955", "contractsent")]).encode()
    headers = signed(body)
    response = client.post("/v1/webhooks/hubspot", content=body.replace(b"contractsent", b"closedwon"), headers=headers)
    assert response.status_code == 401


def test_hubspot_signs_the_uri_with_the_characters_it_decodes(client: TestClient, crm: Crm) -> None:
    body = json.dumps([stage_event("18523467901", "presentationscheduled")]).encode()
    headers = signed(body, url=URL + "?portal=62515&app=a:b")  # HubSpot decodes %3A before signing
    assert client.post("/v1/webhooks/hubspot?portal=62515&app=a%3Ab", content=body, headers=headers).status_code == 202
    client.app.state.webhook_jobs.wait(timeout=30)


def test_hubspot_ignores_deletions_and_other_objects(client: TestClient, crm: Crm) -> None:
    events = [dict(stage_event("18523467955", "x", 7), subscriptionType="deal.deletion", propertyName=None),
              dict(stage_event("901", "x", 8), subscriptionType="contact.propertyChange")]
    body = json.dumps(events).encode()
    response = client.post("/v1/webhooks/hubspot", content=body, headers=signed(body))
    client.app.state.webhook_jobs.wait(timeout=30)
    assert response.status_code == 202 and response.json()["deals"] == [] and crm.writes == []


def test_hubspot_webhooks_without_a_client_secret_are_503_not_open(client: TestClient, monkeypatch) -> None:
    monkeypatch.delenv("DEALCOACH_HUBSPOT_CLIENT_SECRET")
    body = b"[]"
    response = client.post("/v1/webhooks/hubspot", content=body, headers=signed(body))
    assert response.status_code == 503 and "client_secret" in response.json()["detail"]


def test_a_salesforce_flow_callout_with_refuse_answers_409_for_a_blocked_gate(client: TestClient, crm: Crm) -> None:
    auth = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    callout = {"opportunity_id": "0065g00000AbCdEAAV", "to_stage": "Negotiation/Review", "as_of": "2026-11-20"}  # from Perception Analysis
    refused = client.post("/v1/webhooks/salesforce", params={"refuse": "true"}, json=callout, headers=auth)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["title"] == "Stage change refused" and problem["errors"] and "商务谈判阶段" in problem["detail"]
    gate_field = [w for w in crm.written("salesforce") if w["method"] == "PATCH"][0]["body"]["Dealcoach_Gate__c"]
    assert gate_field == "blocked → 商务谈判阶段"  # written back even when refused, so the rep sees why
    answered = client.post("/v1/webhooks/salesforce", json=callout, headers=auth)
    assert answered.status_code == 200 and answered.json()["deals"][0]["gate"] == {"from": "proposal", "to": "negotiation", "allowed": False}


def test_a_salesforce_change_event_is_reviewed_once_per_replay_id(client: TestClient, crm: Crm) -> None:
    auth = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    event = {"schema": "IeRuaY6cbI_HsV8Rv1Mc5g", "payload": {
        "ChangeEventHeader": {"entityName": "Opportunity", "recordIds": ["0065g00000AbCdEAAV"], "changeType": "UPDATE",
                              "changeOrigin": "com/salesforce/api/rest/62.0", "transactionKey": "0002343d-9d90-e395-ed20-cf416ba652ad",
                              "sequenceNumber": 1, "commitTimestamp": 1795680000000, "commitNumber": 10585193272713,
                              "commitUser": "0055g00000OwNeRAA1",
                              "changedFields": ["Amount", "LastModifiedDate"]},
        "Amount": 480000.0, "LastModifiedDate": "2026-11-20T02:00:00.000Z"}, "event": {"replayId": 18243}}
    first = client.post("/v1/webhooks/salesforce", json=event, headers=auth)
    assert first.status_code == 200 and first.json()["deals"][0]["gate"] is None  # not a stage change: reviewed, not gated
    assert first.json()["deals"][0]["ok"] and first.json()["deals"][0]["writes"]
    again = client.post("/v1/webhooks/salesforce", json=event, headers=auth)
    assert (again.json()["deals"], again.json()["duplicate"]) == ([], True)
    assert len([w for w in crm.written("salesforce") if w["path"].endswith("/ContentNote")]) == 1  # one note: the replay did nothing
    assert client.post("/v1/webhooks/salesforce", json=event).status_code == 401  # the service's bearer token, as /v1


def test_an_odoo_webhook_with_its_own_token_in_the_query(client: TestClient, crm: Crm) -> None:
    payload = {"_action": "Send Webhook Notification(#41)", "_id": 57, "_model": "crm.lead", "id": 57, "name": "Cold-room sensors - 3 sites",
               "stage_id": [3, "Proposition"], "write_date": "2026-11-20 08:00:00"}
    assert client.post("/v1/webhooks/odoo", json=payload, params={"token": SERVICE_TOKEN}).status_code == 401  # not the service token
    response = client.post("/v1/webhooks/odoo", json=payload, params={"token": WEBHOOK_TOKEN, "gate": "true"})
    assert response.status_code == 200, response.text
    [deal] = response.json()["deals"]
    assert (deal["gate"]["from"], deal["gate"]["to"]) == ("sales_entry", "proposal")  # no stage history: the stage model's previous
    fields = crm.written("odoo")[0]
    assert fields["method"] == "write" and fields["body"]["args"][0] == [57]
    assert fields["body"]["args"][1]["x_dealcoach_reviewed"] == "2026-11-20"  # the day Odoo wrote the change
    assert fields["body"]["args"][1]["x_dealcoach_gate"] == ("allowed" if deal["gate"]["allowed"] else "blocked") + " → 提案阶段"
    plain = client.post("/v1/webhooks/odoo", json=payload, params={"token": WEBHOOK_TOKEN})
    assert plain.json()["deals"][0]["gate"] is None  # a rule not triggered by a stage change: reviewed only


def test_webhooks_that_write_into_the_crm_are_never_open(crm: Crm, monkeypatch) -> None:
    open_service = TestClient(create_app(Settings()))
    assert open_service.post("/v1/webhooks/salesforce", json={"opportunity_id": "0065g00000AbCdFAAV"}).status_code == 503
    assert open_service.post("/v1/webhooks/odoo", json={"_model": "crm.lead", "_id": 57}).status_code == 503
    assert crm.writes == []


def test_a_salesforce_move_already_saved_is_gated_from_the_stage_its_history_names(client: TestClient, crm: Crm) -> None:
    auth = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    history = crm.salesforce["records"][1]["OpportunityHistories"]["records"]
    history[2]["StageName"] = "Qualification"  # now the stage before Negotiation/Review was development, two stages back
    response = client.post("/v1/webhooks/salesforce", json={"opportunity_id": "0065g00000AbCdFAAV", "as_of": "2026-11-20"}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["deals"][0]["gate"] == {"from": "development", "to": "negotiation", "allowed": False}
    written = [w for w in crm.written("salesforce") if w["method"] == "PATCH" and "Dealcoach_Gate__c" in w["body"]]
    assert written and written[0]["body"]["Dealcoach_Next_Milestone__c"] == "客户和我方签了合同"  # coached at the present stage
    unknown = client.post("/v1/webhooks/salesforce", json={"opportunity_id": "0065g00000AbCdFAAV", "to_stage": "Site Survey"}, headers=auth)
    assert unknown.status_code == 200 and "stage 'Site Survey' is not in the mapping" in unknown.json()["deals"][0]["problems"][0]


def test_a_hubspot_batch_that_fails_midway_is_not_marked_seen_so_hubspot_s_retry_is_processed(client: TestClient, crm: Crm, monkeypatch) -> None:
    from dealcoach.crm.client import CrmClient

    body = json.dumps([stage_event("18523467955", "contractsent", 41)]).encode()
    real = CrmClient.fetch
    monkeypatch.setattr(CrmClient, "fetch", lambda self, record_id, mapping: (_ for _ in ()).throw(RuntimeError("network gone")))
    assert client.post("/v1/webhooks/hubspot", content=body, headers=signed(body)).status_code == 202
    client.app.state.webhook_jobs.wait(timeout=30)
    assert crm.writes == []
    monkeypatch.setattr(CrmClient, "fetch", real)
    retried = client.post("/v1/webhooks/hubspot", content=body, headers=signed(body, at_ms=int(time.time() * 1000) + 5))
    assert retried.json()["deals"] == ["18523467955"]
    client.app.state.webhook_jobs.wait(timeout=30)
    assert len(crm.written("hubspot")) == 4


def test_malformed_event_fields_are_422_or_ignored_never_500(client: TestClient, crm: Crm) -> None:
    auth = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    event = {"payload": {"ChangeEventHeader": {"entityName": "Opportunity", "recordIds": 5, "changeType": "UPDATE"}}, "event": {"replayId": 9}}
    assert client.post("/v1/webhooks/salesforce", json=event, headers=auth).status_code == 422
    huge = {"_model": "crm.lead", "_id": 57, "write_date": 1e300}
    assert client.post("/v1/webhooks/odoo", json=huge, params={"token": WEBHOOK_TOKEN}).status_code == 200


def test_a_webhook_s_review_and_gate_are_in_the_decision_log_with_the_crm_as_caller(crm: Crm, tmp_path) -> None:
    from dealcoach.store import open_store

    location = str(tmp_path / "log.sqlite3")
    client = TestClient(create_app(Settings(token=SERVICE_TOKEN, webhook_token=WEBHOOK_TOKEN, store=location)))
    crm.salesforce["records"][1]["OpportunityHistories"]["records"][2]["StageName"] = "Qualification"  # saved: development → negotiation
    answered = client.post("/v1/webhooks/salesforce", json={"opportunity_id": "0065g00000AbCdFAAV", "as_of": "2026-11-20"},
                           headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})
    assert answered.status_code == 200
    logged = open_store(location).deal_decisions("0065g00000AbCdFAAV")
    assert sorted((d.kind, d.caller, d.to_stage, d.allowed) for d in logged) == [
        ("gate", "webhook:salesforce", "negotiation", False), ("review", "webhook:salesforce", None, None)]
    stages = {d.kind: (d.digest.stage.id, d.deal["stage"]) for d in logged}
    assert stages == {"gate": ("development",) * 2, "review": ("negotiation",) * 2}  # each deal as judged: the gate's at the stage left
