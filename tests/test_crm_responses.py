"""Salesforce, HubSpot and Odoo query responses as their APIs return them: a page of deals reviewed end to end
(CLI and HTTP), the CRM's error answers reported as its errors, pages that say more follow noted, and
nothing guessed (a contact associated but not sent is named)."""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dealcoach.cli import cli
from dealcoach.crm import MappingError
from dealcoach.crm.answers import CrmAnswerError
from dealcoach.crm.convert import RecordChoiceError, convert, one, records
from dealcoach.service.app import Settings, create_app

from helpers import ROOT

EXAMPLES = ROOT / "examples" / "crm"
AS_OF = "2026-11-20"
FILES = {"salesforce": "salesforce-query.json", "hubspot": "hubspot-page.json", "odoo": "odoo-search-read.json"}


def answer(kind: str):
    return json.loads((EXAMPLES / FILES[kind]).read_text(encoding="utf-8"))


def converted(kind: str, data=None):
    return records(kind, answer(kind) if data is None else data, as_of=AS_OF, source="page")


# -- Salesforce ---------------------------------------------------------------------------------------------------


def test_a_soql_response_is_one_deal_per_opportunity_and_closed_lost_is_skipped_by_the_shipped_mapping() -> None:
    page = converted("salesforce")
    assert [(c.record_id, c.document is not None, c.skipped is not None) for c in page] == [
        ("0065g00000AbCdEAAV", True, False), ("0065g00000AbCdFAAV", True, False), ("0065g00000AbCdGAAV", False, True)]
    steel = page[1].document
    assert (steel["customer"], steel["owner"], steel["stage"], steel["currency"]) == (
        {"name": "Baltic Steel Works", "industry": "Metals & Mining"}, "Anna Keller", "negotiation", "EUR")
    roles = {c["name"]: c.get("roles") for c in steel["contacts"]}
    assert roles == {"Jonas Berg": ["decision_maker"], "Lina Ozola": ["technical_gatekeeper"], "Marek Nowak": ["user"]}
    assert page[2].skipped.path == "StageName" and page.notes == []


def test_a_soql_page_that_is_not_done_and_a_truncated_sub_query_are_noted() -> None:
    data = answer("salesforce")
    data.update(done=False, totalSize=2400, nextRecordsUrl="/services/data/v62.0/query/01gRO0000016PIAYA2-2000")
    data["records"][0]["OpportunityContactRoles"].update(done=False, nextRecordsUrl="/services/data/v62.0/query/01gRO00000C-200")
    notes = converted("salesforce", data).notes
    assert any("2400 records match" in n and "01gRO0000016PIAYA2-2000" in n for n in notes)
    assert any(n.startswith("0065g00000AbCdEAAV: OpportunityContactRoles has more rows") for n in notes)


def test_soql_pages_sent_as_a_list_are_read_in_order() -> None:
    data = answer("salesforce")
    first = dict(data, records=data["records"][:1], done=False, nextRecordsUrl="/services/data/v62.0/query/01g-1")
    second = dict(data, records=data["records"][1:])
    assert [c.record_id for c in converted("salesforce", [first, second])] == [c.record_id for c in converted("salesforce")]


def test_a_salesforce_error_answer_is_reported_as_salesforce_error_not_as_an_empty_page() -> None:
    error = [{"message": "\nStageNam FROM Opportunity\n^\nERROR at Row:1:Column:12\nNo such column 'StageNam'", "errorCode": "INVALID_FIELD"}]
    with pytest.raises(CrmAnswerError) as caught:
        converted("salesforce", error)
    [problem] = caught.value.problems
    assert problem.path == "[0].errorCode" and "Salesforce answered with error INVALID_FIELD" in problem.message
    assert "nothing here was reviewed" in problem.message


def test_a_soql_response_of_another_object_is_refused_with_its_type() -> None:
    data = {"totalSize": 1, "done": True, "records": [{"attributes": {"type": "Account"}, "Id": "001", "Name": "Apex"}]}
    with pytest.raises(CrmAnswerError, match="a Account record, not an Opportunity"):
        converted("salesforce", data)


# -- HubSpot ------------------------------------------------------------------------------------------------------


def test_a_hubspot_page_gives_each_deal_its_associated_company_contacts_labels_and_owner() -> None:
    page = converted("hubspot")
    nordic, aurora, lost = page
    assert nordic.document["customer"] == {"name": "Nordic Foods AB"}  # the associated company, never the deal's name
    assert aurora.document["customer"] == {"name": "Aurora Dairy Oy"}
    assert (nordic.document["owner"], aurora.document["owner"]) == ("Karin Dahl", "Lars Eek")  # from the owners answer
    people = {c["name"]: c for c in aurora.document["contacts"]}
    assert set(people) == {"Elin Holm", "Oskar Lind"}  # only this deal's contacts
    assert people["Elin Holm"]["roles"] == ["purchaser", "procurement_organiser"] and people["Oskar Lind"]["roles"] == ["user"]
    assert lost.skipped is not None and lost.skipped.path == "properties.dealstage"


def test_a_contact_associated_but_not_sent_is_named_never_silently_left_out() -> None:
    data = answer("hubspot")
    data["contacts"]["results"] = [c for c in data["contacts"]["results"] if c["id"] != "904"]
    page = converted("hubspot", data)
    assert page[0].document is not None
    assert [str(p) for p in page[1].error.problems] == [
        "contacts: contact 904 is associated with the deal but not among the contacts sent: add it to the contacts batch read"]


def test_hubspot_paging_and_partial_batch_errors_are_noted_and_an_error_answer_is_hubspot_error() -> None:
    data = answer("hubspot")
    data["deals"]["paging"] = {"next": {"after": "NTI1Cg%3D%3D", "link": "https://api.hubapi.com/crm/v3/objects/deals?after=NTI1Cg%3D%3D"}}
    data["contacts"].update(status="COMPLETE", numErrors=1, errors=[
        {"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Could not get some CONTACT objects, they may be deleted or not exist.",
         "context": {"ids": ["905"]}}])
    notes = converted("hubspot", data).notes
    assert any("after=NTI1Cg%3D%3D" in n for n in notes) and any("OBJECT_NOT_FOUND: 905" in n for n in notes)
    refused = {"status": "error", "message": "Authentication credentials not found.", "correlationId": "a3c5", "category": "INVALID_AUTHENTICATION"}
    with pytest.raises(CrmAnswerError) as caught:
        converted("hubspot", dict(answer("hubspot"), contacts=refused))
    assert [str(p) for p in caught.value.problems][0].startswith(
        "contacts.status: HubSpot answered with error INVALID_AUTHENTICATION: Authentication credentials not found.")


def test_a_deals_answer_alone_names_what_is_missing_for_the_customer() -> None:
    page = converted("hubspot", answer("hubspot")["deals"])
    assert all(c.error is not None for c in page if c.skipped is None)
    assert "no associated company with a name" in str(page[0].error.problems[0])


def test_the_single_deal_bundle_still_works() -> None:
    bundle = json.loads((ROOT / "tests" / "crm" / "hubspot-deal.json").read_text(encoding="utf-8"))
    assert convert("hubspot", bundle, as_of=AS_OF)["customer"] == {"name": "Nordic Foods AB"}


# -- Odoo ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["json-rpc", "list", "pages", "web_search_read"])
def test_odoo_search_read_in_every_shape_it_is_returned(shape: str) -> None:
    rpc = answer("odoo")
    data = {
        "json-rpc": rpc, "list": rpc["result"],
        "pages": [dict(rpc, result=rpc["result"][:2]), dict(rpc, id=8, result=rpc["result"][2:])],
        "web_search_read": dict(rpc, result={"length": 3, "records": rpc["result"]}),
    }[shape]
    page = converted("odoo", data)
    assert [c.record_id for c in page] == ["crm.lead/42", "crm.lead/57", "crm.lead/61"]
    assert page[1].document["stage"] == "proposal" and page[2].document["contacts"] == []


def test_an_odoo_json_rpc_error_names_the_exception_and_never_the_server_traceback() -> None:
    error = {"jsonrpc": "2.0", "id": 7, "error": {"code": 200, "message": "Odoo Server Error", "data": {
        "name": "odoo.exceptions.AccessError", "debug": "Traceback (most recent call last):\n  File ...",
        "message": "You are not allowed to access 'Lead/Opportunity' (crm.lead) records.", "arguments": [], "context": {}}}}
    with pytest.raises(CrmAnswerError) as caught:
        converted("odoo", error)
    text = str(caught.value.problems[0])
    assert text.startswith("error: Odoo JSON-RPC answered with error odoo.exceptions.AccessError: You are not allowed")
    assert "Traceback" not in text


def test_web_search_read_with_more_records_than_sent_is_noted() -> None:
    rpc = answer("odoo")
    assert "240 records match" in converted("odoo", dict(rpc, result={"length": 240, "records": rpc["result"]})).notes[0]


# -- end to end: CLI and HTTP -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", FILES)
def test_a_response_without_from_is_recognised_and_the_user_told_how_to_read_it(kind: str) -> None:
    result = CliRunner().invoke(cli, ["review", str(EXAMPLES / FILES[kind])])
    assert result.exit_code == 3 and f"read it with --from {kind} --as-of DATE" in result.output


@pytest.mark.parametrize("kind,record,customer", [
    ("salesforce", "Plant 3 energy monitoring", "Baltic Steel Works"),
    ("hubspot", "18523467955", "Aurora Dairy Oy"),
    ("odoo", "crm.lead/57", "Azure Interior"),
])
def test_cli_review_of_one_record_of_a_response(kind: str, record: str, customer: str) -> None:
    path = str(EXAMPLES / FILES[kind])
    several = CliRunner().invoke(cli, ["review", path, "--from", kind, "--as-of", AS_OF])
    assert several.exit_code == 2 and "the response holds 3 records" in several.output and "--record" in several.output
    chosen = CliRunner().invoke(cli, ["review", path, "--from", kind, "--as-of", AS_OF, "--record", record, "--format", "json"])
    assert chosen.exit_code == 0, chosen.output
    assert json.loads(chosen.stdout)["customer"] == customer


@pytest.mark.parametrize("kind,reviewed,skipped", [("salesforce", 2, 1), ("hubspot", 2, 1), ("odoo", 3, 0)])
def test_cli_pipeline_over_a_response_reviews_every_record_and_names_the_skipped(tmp_path, kind: str, reviewed: int, skipped: int) -> None:
    out = tmp_path / "results.jsonl"
    result = CliRunner().invoke(cli, ["pipeline", str(EXAMPLES / FILES[kind]), "--from", kind, "--as-of", AS_OF, "-q", "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == reviewed and all(line["ok"] for line in lines)
    assert result.stderr.count("note: skipped") == skipped


def test_cli_pipeline_notes_a_page_that_says_more_follow(tmp_path) -> None:
    data = dict(answer("salesforce"), done=False, nextRecordsUrl="/services/data/v62.0/query/01g-2000")
    path = tmp_path / "page1.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(cli, ["pipeline", str(path), "--from", "salesforce", "--as-of", AS_OF, "-q", "-o", str(tmp_path / "r.jsonl")])
    assert result.exit_code == 0 and "01g-2000" in result.stderr and "send the pages as a list" in result.stderr


def test_cli_reports_the_crm_error_answer_with_exit_3(tmp_path) -> None:
    path = tmp_path / "error.json"
    path.write_text(json.dumps([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]), encoding="utf-8")
    result = CliRunner().invoke(cli, ["review", str(path), "--from", "salesforce", "--as-of", AS_OF])
    assert result.exit_code == 3 and "Salesforce answered with error INVALID_SESSION_ID: Session expired or invalid" in result.output


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings()))


@pytest.mark.parametrize("kind", FILES)
def test_http_batch_reviews_every_record_of_a_response(client: TestClient, kind: str) -> None:
    response = client.post(f"/v1/crm/{kind}/review/batch", params={"as_of": AS_OF, "lang": "en"}, json=answer(kind))
    assert response.status_code == 200, response.text
    body = response.json()
    expected = [c.record_id for c in converted(kind) if c.skipped is None]
    assert [item["deal_id"] for item in body["results"]] == expected and all(item["ok"] for item in body["results"])
    assert [s["deal_id"] for s in body["skipped"]] == [c.record_id for c in converted(kind) if c.skipped is not None]


@pytest.mark.parametrize("kind,record", [("salesforce", "0065g00000AbCdFAAV"), ("hubspot", "Aurora Dairy - plant-wide energy metering"),
                                         ("odoo", "crm.lead/61")])
def test_http_review_of_one_record_of_a_response(client: TestClient, kind: str, record: str) -> None:
    response = client.post(f"/v1/crm/{kind}/review", params={"as_of": AS_OF, "record": record}, json=answer(kind))
    assert response.status_code == 200, response.text
    assert response.json()["report"]["deal_id"] == next(c.record_id for c in converted(kind) if record in (c.record_id, c.name))


def test_http_takes_odoo_search_read_as_the_list_it_is(client: TestClient) -> None:
    response = client.post("/v1/crm/odoo/review/batch", params={"as_of": AS_OF}, json=answer("odoo")["result"])
    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) == 3


def test_http_crm_error_answer_is_422_naming_the_crm_error(client: TestClient) -> None:
    refused = {"status": "error", "message": "This app hasn't been granted all required scopes", "category": "MISSING_SCOPES"}
    response = client.post("/v1/crm/hubspot/review/batch", params={"as_of": AS_OF}, json={"deals": refused})
    assert response.status_code == 422
    assert "HubSpot answered with error MISSING_SCOPES" in response.json()["errors"][0]["message"]


def test_a_record_choice_names_the_records_and_an_unknown_choice_is_refused() -> None:
    with pytest.raises(RecordChoiceError, match="no single record has the id or name 'nope'"):
        one(converted("odoo"), "nope", "page")
    with pytest.raises(MappingError, match="not coached"):
        one(converted("salesforce"), "Spare parts framework 2027", "page")


def test_records_are_not_modified() -> None:
    for kind in FILES:
        original = answer(kind)
        copied = copy.deepcopy(original)
        records(kind, copied, as_of=AS_OF)
        assert copied == original


def test_http_batch_names_a_page_that_says_more_follow(client: TestClient) -> None:
    data = dict(answer("salesforce"), done=False, nextRecordsUrl="/services/data/v62.0/query/01g-2000")
    response = client.post("/v1/crm/salesforce/review/batch", params={"as_of": AS_OF}, json=data)
    assert response.status_code == 200 and any("01g-2000" in note for note in response.json()["notes"])
