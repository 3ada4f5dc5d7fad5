"""纷享销客 and 销售易 query responses as returned: a page of records reviewed end to end (CLI and HTTP), error
envelopes reported as the CRM's error, unmapped values named with their field."""

from __future__ import annotations

import copy
import json
import shutil

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dealcoach.cli import cli
from dealcoach.crm import MappingError, load_mapping
from dealcoach.crm.answers import CrmAnswerError
from dealcoach.crm.convert import convert, records
from dealcoach.service.app import Settings, create_app

from helpers import ROOT

EXAMPLES = ROOT / "examples" / "crm"
AS_OF = "2026-11-20"


def page(kind: str) -> dict:
    return json.loads((EXAMPLES / f"{kind}-page.json").read_text(encoding="utf-8"))


def mapping(kind: str):
    return load_mapping(kind, EXAMPLES / f"{kind}-mapping.yaml")


def test_a_fxiaoke_page_becomes_one_deal_per_record_with_its_contacts_competitors_and_skips() -> None:
    converted = records("fxiaoke", page("fxiaoke"), as_of=AS_OF, mapping=mapping("fxiaoke"), source="page")
    assert [c.record_id for c in converted] == ["65f0a1b2c3d4e50001a1b2c3", "65f0a1b2c3d4e50001a1b2c4", "65f0a1b2c3d4e50001a1b2c5"]
    first = converted[0].document
    # amount as a string, epoch-millisecond dates read in the CRM's zone (+08:00): 2027-03-31 00:00 is 2027-03-30 UTC
    assert (first["amount"], first["expected_close"], first["stage_entered"]) == (2860000.0, "2027-03-31", "2026-10-09")
    assert (first["stage"], first["owner"], first["customer"]) == ("proposal", "周凯", {"name": "江苏恒力汽车部件有限公司"})
    people = {c["name"]: c for c in first["contacts"]}
    assert people["陈国华"] == {"id": "7701", "name": "陈国华", "title": "总经理", "power": "core", "stance": "neutral",
                             "last_contact": "2026-07-30", "roles": ["decision_maker"]}
    assert people["王建国"]["supporter"] == ["coach"] and people["王建国"]["roles"] == ["technical_gatekeeper"]
    assert first["competitors"] == [{"name": "西门子数字化工业"}]
    assert converted[1].document["contacts"][1]["name"] == "郑海涛"  # each record gets only its own related records
    assert converted[2].document is None and converted[2].skipped.path == "sales_status"


def test_a_neocrm_page_reads_flattened_relations_label_picklists_and_names_the_unmapped_stage() -> None:
    converted = records("neocrm", page("neocrm"), as_of=AS_OF, mapping=mapping("neocrm"), source="page")
    grid = converted[0].document
    assert (grid["id"], grid["customer"]["name"], grid["owner"], grid["stage"]) == ("1473854063886983", "国网某省电力公司", "刘洋", "bidding")
    people = {c["name"]: c for c in grid["contacts"]}
    assert people["马志远"] == {"id": "3001", "name": "马志远", "title": "生产技术部主任", "roles": ["technical_gatekeeper"], "supporter": ["coach"]}
    assert grid["competitors"] == [{"name": "南瑞继保"}]
    assert converted[1].document["amount"] == 720000.0  # money written as text
    unmapped = converted[2]
    assert unmapped.document is None and [str(p) for p in unmapped.error.problems] == [
        "saleStageId: sale stage id '915963' is not in the mapping; mapped: '915957', '915958', '915959', '915960', '915961', '915962'"]


@pytest.mark.parametrize("kind, answer, field", [
    ("fxiaoke", {"traceId": "E-O.1", "errorCode": 20016, "errorMessage": "the cropId,cropAccessToken or authorization is error"}, "errorCode"),
    ("fxiaoke", {"traceId": "E-O.2", "errorCode": 30004, "errorDescription": "秒频次超限"}, "errorCode"),
    ("neocrm", {"code": "5000047", "msg": "Field data type mismatch"}, "code"),
    ("neocrm", {"code": 401, "msg": "token invalid", "result": None}, "code"),
])
def test_an_error_answer_is_the_crms_error_never_an_empty_page(kind: str, answer: dict, field: str) -> None:
    with pytest.raises(CrmAnswerError) as raised:
        records(kind, answer, as_of=AS_OF, mapping=mapping(kind))
    problem = raised.value.problems[0]
    assert problem.path == field and "answered with error" in problem.message and "nothing here was reviewed" in problem.message
    bundle = {"opportunities": page(kind)["opportunities"], "contacts": answer}
    with pytest.raises(CrmAnswerError) as raised:  # an error among the related answers fails the whole input too
        records(kind, bundle, as_of=AS_OF, mapping=mapping(kind))
    assert raised.value.problems[0].path == f"contacts.{field}"


def test_pages_of_one_query_may_come_as_a_list_and_a_lone_response_is_the_opportunities() -> None:
    data = page("fxiaoke")
    second = copy.deepcopy(data["opportunities"])
    second["data"]["dataList"] = [dict(second["data"]["dataList"][0], _id="x2", name="第二页的单子")]
    paged = dict(data, opportunities=[data["opportunities"], second])
    assert [c.record_id for c in records("fxiaoke", paged, as_of=AS_OF, mapping=mapping("fxiaoke"))][-1] == "x2"
    alone = records("fxiaoke", data["opportunities"], as_of=AS_OF, mapping=mapping("fxiaoke"))
    assert len(alone) == 3 and alone[0].document["contacts"] == []


def test_the_shipped_mappings_map_no_stages_and_say_the_values_are_the_companys_own() -> None:
    with pytest.raises(MappingError) as raised:
        convert("fxiaoke", page("fxiaoke")["opportunities"]["data"]["dataList"][0] | {}, as_of=AS_OF)
    assert raised.value  # a bare record is not a response
    converted = records("neocrm", page("neocrm"), as_of=AS_OF)
    assert "which maps none yet" in converted[0].error.problems[0].message


def test_a_wrong_value_type_is_named_with_its_field() -> None:
    data = page("fxiaoke")
    data["opportunities"]["data"]["dataList"][0].update(amount="两百万", close_date=[1], stg_changed_time=True)
    problems = {p.path: p.message for p in records("fxiaoke", data, as_of=AS_OF, mapping=mapping("fxiaoke"))[0].error.problems}
    assert problems["amount"].startswith("expected a number, got the text '两百万'")
    assert problems["close_date"] == "expected a date as epoch milliseconds, got a list"
    assert "stg_changed_time" in problems


@pytest.fixture
def run():
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_cli_reviews_one_record_of_a_page_chosen_by_id_or_name(run) -> None:
    base = [str(EXAMPLES / "fxiaoke-page.json"), "--from", "fxiaoke", "--as-of", AS_OF, "--mapping", str(EXAMPLES / "fxiaoke-mapping.yaml")]
    several = run("review", *base)
    assert several.exit_code == 2 and "holds 3 records" in several.output and "--record" in several.output
    by_name = run("review", *base, "--record", "园区SIS安全仪表系统")
    assert by_name.exit_code == 0 and by_name.output.startswith("园区SIS安全仪表系统 · 宁波北仑石化有限公司")
    skipped = run("review", *base, "--record", "65f0a1b2c3d4e50001a1b2c5")
    assert skipped.exit_code == 3 and "sales_status: not coached" in skipped.output
    gate = run("gate", *base, "--record", "65f0a1b2c3d4e50001a1b2c3", "--to", "bidding")
    assert gate.exit_code == 1
    unknown = run("review", *base, "--record", "不存在")
    assert unknown.exit_code == 2 and "no single record has the id or name '不存在'" in unknown.output
    assert run("review", str(EXAMPLES / "fxiaoke-page.json")).output.count("--from fxiaoke") == 1  # sent without --from: told how


def test_cli_pipeline_reviews_every_record_and_notes_the_skipped(run, tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    result = run("pipeline", str(EXAMPLES / "neocrm-page.json"), "--from", "neocrm", "--as-of", AS_OF,
                 "--mapping", str(EXAMPLES / "neocrm-mapping.yaml"), "-o", str(out), "-j", "1", "-q")
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["deal_id"], r["ok"]) for r in lines] == [("1473854063886983", True), ("1473854063886990", True), ("1473854063886995", False)]
    assert lines[2]["error"]["problems"][0]["path"] == "saleStageId" and result.exit_code == 6
    fx = run("pipeline", str(EXAMPLES / "fxiaoke-page.json"), "--from", "fxiaoke", "--as-of", AS_OF,
             "--mapping", str(EXAMPLES / "fxiaoke-mapping.yaml"), "-o", str(tmp_path / "fx.jsonl"), "-j", "1", "-q")
    assert fx.exit_code == 0 and "note: skipped" in fx.output and "仓储立库改造（已输单）" in fx.output
    assert run("pipeline", str(EXAMPLES / "fxiaoke-page.json"), "--from", "fxiaoke").exit_code == 2  # no --as-of


@pytest.fixture
def client(tmp_path):
    for kind in ("fxiaoke", "neocrm"):
        shutil.copy(EXAMPLES / f"{kind}-mapping.yaml", tmp_path / f"{kind}.yaml")
    return TestClient(create_app(Settings(mapping_dir=str(tmp_path))))


def test_http_reviews_a_page_as_a_batch_and_one_record_by_choice(client) -> None:
    answer = client.post(f"/v1/crm/fxiaoke/review/batch?as_of={AS_OF}&lang=zh", json=page("fxiaoke"))
    assert answer.status_code == 200
    body = answer.json()
    assert [(r["deal_id"], r["ok"]) for r in body["results"]] == [("65f0a1b2c3d4e50001a1b2c3", True), ("65f0a1b2c3d4e50001a1b2c4", True)]
    assert body["skipped"][0]["deal_id"] == "65f0a1b2c3d4e50001a1b2c5"
    one = client.post(f"/v1/crm/neocrm/review?as_of={AS_OF}&record=洁净车间环境监控", json=page("neocrm"))
    assert one.status_code == 200 and one.json()["report"]["deal_id"] == "1473854063886990"
    unchosen = client.post(f"/v1/crm/neocrm/review?as_of={AS_OF}", json=page("neocrm"))
    assert unchosen.status_code == 422 and "review/batch" in unchosen.json()["errors"][0]["message"]
    failed = client.post(f"/v1/crm/neocrm/review/batch?as_of={AS_OF}", json={"code": "5000047", "msg": "Field data type mismatch"})
    assert failed.status_code == 422 and failed.json()["errors"][0]["path"] == "code"
    unmapped = client.post(f"/v1/crm/neocrm/review/batch?as_of={AS_OF}", json=page("neocrm")).json()["results"][2]
    assert unmapped["ok"] is False and unmapped["errors"][0]["path"] == "saleStageId"
