"""Write-back: the coaching as each CRM stores it (fields, a note, tasks), sent to a local server that answers
with the APIs' recorded shapes and records every write; the writes are checked field by field."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from click.testing import CliRunner

from dealcoach.cli import cli
from dealcoach.crm import load_mapping
from dealcoach.crm.client import CrmClient
from dealcoach.crm.connections import Connection, CrmConnectionError, connection
from dealcoach.crm.convert import records
from dealcoach.crm.sync import sync_record
from dealcoach.crm.writeback import coaching, fingerprint, plan
from dealcoach.engine import api

from crm_server import HUBSPOT_TOKEN, ODOO, SALESFORCE_TOKEN, Crm, crm_server
from helpers import ROOT

EXAMPLES = ROOT / "examples" / "crm"
AS_OF = "2026-11-20"
FILES = {"salesforce": "salesforce-query.json", "hubspot": "hubspot-page.json", "odoo": "odoo-search-read.json"}
CHOSEN = {"salesforce": "0065g00000AbCdFAAV", "hubspot": "18523467955", "odoo": "crm.lead/57"}


@pytest.fixture(scope="module")
def coach():
    return api.coach(None)


def record(kind: str, data=None):
    page = records(kind, data or json.loads((EXAMPLES / FILES[kind]).read_text(encoding="utf-8")), as_of=AS_OF, source=kind)
    return next(c for c in page if c.record_id == CHOSEN[kind])


def connections(base: str) -> dict[str, Connection]:
    return {"salesforce": Connection("salesforce", f"{base}/salesforce", token=SALESFORCE_TOKEN),
            "hubspot": Connection("hubspot", f"{base}/hubspot", token=HUBSPOT_TOKEN),
            "odoo": Connection("odoo", f"{base}/odoo", db=ODOO["db"], uid=ODOO["uid"], password=ODOO["password"])}


def test_the_coaching_is_the_review_s_first_moves_blocking_risks_and_dates(coach) -> None:
    converted = record("salesforce")
    report = coach.review(converted.document)
    planned = coaching(coach, report, "salesforce", converted.record_id, converted.record, load_mapping("salesforce"))
    localised = coach.localise(report, "zh")
    firsts = [c.text.first for c in localised.cards if not c.folded][:3]
    assert [t.subject for t in planned.tasks] == [f"dealcoach：{first}" for first in firsts]
    assert all(first in planned.note for first in firsts) and "下一个路标：" in planned.note
    assert all(t.due in (dt.date(2026, 11, 27), dt.date(2026, 12, 4), dt.date(2026, 12, 20)) for t in planned.tasks)
    assert (planned.grade, planned.reviewed, planned.changed) == ("A?", dt.date(2026, 11, 20), True)
    assert planned.fingerprint == fingerprint(report) and len(planned.fingerprint) == 16


def test_the_note_speaks_the_mapping_s_language_and_the_fingerprint_does_not_depend_on_it(coach) -> None:
    converted = record("hubspot")
    report = coach.review(converted.document)
    english = load_mapping("hubspot").model_copy(update={"writeback": load_mapping("hubspot").writeback.model_copy(update={"lang": "en"})})
    zh = coaching(coach, report, "hubspot", converted.record_id, converted.record, load_mapping("hubspot"))
    en = coaching(coach, report, "hubspot", converted.record_id, converted.record, english)
    assert "先做" in zh.note and "Do these" in en.note and zh.fingerprint == en.fingerprint
    assert en.tasks[0].subject.startswith("dealcoach: ")


def test_a_record_already_carrying_the_fingerprint_gets_its_changed_fields_only_and_then_nothing(coach) -> None:
    mapping = load_mapping("hubspot")
    data = json.loads((EXAMPLES / FILES["hubspot"]).read_text(encoding="utf-8"))
    first = record("hubspot", data)
    done = coaching(coach, coach.review(first.document), "hubspot", first.record_id, first.record, mapping)
    deal = next(d for d in data["deals"]["results"] if d["id"] == CHOSEN["hubspot"])
    deal["properties"]["dealcoach_fingerprint"] = done.fingerprint
    again = record("hubspot", data)
    planned = plan("hubspot", coaching(coach, coach.review(again.document), "hubspot", again.record_id, again.record, mapping), mapping)
    assert [w.what for w in planned] == ["fields"]  # no second note, no second set of tasks
    for write in planned:  # the CRM now holds every value: a sync (or a webhook fired by this write) writes nothing
        deal["properties"].update(write.body["properties"])
    settled = record("hubspot", data)
    assert plan("hubspot", coaching(coach, coach.review(settled.document), "hubspot", settled.record_id, settled.record, mapping), mapping) == []


def test_the_fingerprint_is_not_written_when_the_note_was_refused(coach) -> None:
    crm = Crm()
    with crm_server(crm) as base:
        client = CrmClient(connections(base)["hubspot"])
        original = client.transport

        def refuse_notes(method, url, headers, body, timeout):
            if url.endswith("/crm/v3/objects/notes"):
                return 403, {}, json.dumps({"status": "error", "message": "This app hasn't been granted all required scopes",
                                            "category": "MISSING_SCOPES"}).encode()
            return original(method, url, headers, body, timeout)

        client.transport = refuse_notes
        synced = sync_record(coach, "hubspot", record("hubspot"), load_mapping("hubspot"), client)
    outcome = {r.what: r for r in synced.results}
    assert not outcome["note"].ok and "MISSING_SCOPES" in outcome["note"].detail
    assert not outcome["fingerprint"].ok and outcome["fingerprint"].status == 0  # the next sync writes the note again
    assert all("dealcoach_fingerprint" not in (w["body"].get("properties") or {}) for w in crm.written("hubspot"))


@pytest.mark.parametrize("kind", FILES)
def test_a_webhook_style_round_trip_fetches_reviews_and_writes_back_checked_field_by_field(coach, kind: str) -> None:
    crm = Crm()
    mapping = load_mapping(kind)
    with crm_server(crm) as base:
        client = CrmClient(connections(base)[kind])
        fetched = records(kind, client.fetch(CHOSEN[kind], mapping), as_of=AS_OF, mapping=mapping, source=kind)
        assert [c.record_id for c in fetched] == [CHOSEN[kind]]
        synced = sync_record(coach, kind, fetched[0], mapping, client)
    assert synced.ok and synced.results, synced.summary()
    report = coach.localise(synced.report, "zh")
    firsts = [c.text.first for c in report.cards if not c.folded][:3]
    writes = crm.written(kind)
    if kind == "salesforce":
        fields, note, link, *tasks, last = writes
        assert fields["method"] == "PATCH" and fields["path"].endswith(f"/sobjects/Opportunity/{CHOSEN[kind]}")
        assert fields["body"] == {"Dealcoach_Grade__c": "A?", "Dealcoach_Blocking__c": 0, "Dealcoach_Next_Milestone__c": "客户和我方签了合同",
                                  "Dealcoach_Reviewed__c": AS_OF}
        assert (last["path"], last["body"]) == (fields["path"], {"Dealcoach_Fingerprint__c": fingerprint(synced.report)})  # last of all
        text = base64.b64decode(note["body"]["Content"]).decode("utf-8")
        assert note["body"]["Title"] == f"dealcoach 复盘 · {AS_OF}" and all(f in text for f in firsts)
        assert link["body"] == {"ContentDocumentId": "0695g00000N0001AAA", "LinkedEntityId": CHOSEN[kind], "ShareType": "V"}  # @{note.id} resolved
        assert [t["body"]["Subject"] for t in tasks] == [f"dealcoach：{f}" for f in firsts]
        assert {t["body"]["WhatId"] for t in tasks} == {CHOSEN[kind]} and all(t["body"]["Status"] == "Not Started" for t in tasks)
    elif kind == "hubspot":
        fields, note, tasks, last = writes
        assert fields["method"] == "PATCH" and fields["body"]["properties"]["dealcoach_blocking"] == "0"
        assert last["body"] == {"properties": {"dealcoach_fingerprint": fingerprint(synced.report)}}
        assert note["body"]["associations"] == [
            {"to": {"id": CHOSEN[kind]}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}]}]
        assert all(f in note["body"]["properties"]["hs_note_body"] for f in firsts)
        inputs = tasks["body"]["inputs"]
        assert [i["properties"]["hs_task_subject"] for i in inputs] == [f"dealcoach：{f}" for f in firsts]
        assert {i["properties"]["hubspot_owner_id"] for i in inputs} == {"51286499"}  # the deal's owner
        assert all(i["associations"][0]["types"][0]["associationTypeId"] == 216 for i in inputs)
    else:
        fields, note, *tasks, last = writes
        assert (fields["method"], fields["body"]["args"][0]) == ("write", [57])
        assert last["body"]["args"] == [[57], {"x_dealcoach_fingerprint": fingerprint(synced.report)}]
        assert note["method"] == "message_post" and note["body"]["kwargs"]["subtype_xmlid"] == "mail.mt_note"
        assert note["body"]["kwargs"]["body_is_html"] is True
        assert [t["body"]["kwargs"]["summary"] for t in tasks] == [f"dealcoach：{f}" for f in firsts]
        assert {t["body"]["kwargs"]["user_id"] for t in tasks} == {2}  # Mitchell Admin, the lead's salesperson


@pytest.mark.parametrize("kind", FILES)
def test_a_write_the_crm_refuses_is_reported_with_the_crm_s_own_error(coach, kind: str) -> None:
    crm = Crm(missing_fields={"Dealcoach_Grade__c", "dealcoach_grade", "x_dealcoach_grade"})
    with crm_server(crm) as base:
        synced = sync_record(coach, kind, record(kind), load_mapping(kind), CrmClient(connections(base)[kind]))
    refused = [r for r in synced.results if not r.ok]
    assert not synced.ok and [r.what for r in refused] == ["fields"]
    assert {"salesforce": "INVALID_FIELD", "hubspot": "VALIDATION_ERROR", "odoo": "builtins.ValueError"}[kind] in refused[0].detail
    assert all(r.ok for r in synced.results if r.what != "fields")  # the note and tasks still went in


def test_hubspot_rate_limit_is_waited_out_once(coach) -> None:
    crm = Crm()
    crm.script.append(("429", 1))
    waits: list[float] = []
    with crm_server(crm) as base:
        client = CrmClient(connections(base)["hubspot"], sleep=waits.append)
        synced = sync_record(coach, "hubspot", record("hubspot"), load_mapping("hubspot"), client)
    assert synced.ok and waits == [1.0] and len(crm.written("hubspot")) == 4


def test_bad_credentials_are_the_crm_s_refusal_not_a_crash(coach) -> None:
    crm = Crm()
    with crm_server(crm) as base:
        wrong = Connection("odoo", f"{base}/odoo", db="acme", uid=2, password="wrong")
        synced = sync_record(coach, "odoo", record("odoo"), load_mapping("odoo"), CrmClient(wrong))
    assert not synced.ok and "odoo.exceptions.AccessDenied: Access Denied" in synced.results[0].detail and crm.writes == []


def test_connections_come_from_the_environment_over_the_file_and_must_be_https(tmp_path, monkeypatch) -> None:
    config = tmp_path / "crm.yaml"
    config.write_text("hubspot:\n  token_env: MY_HUBSPOT_TOKEN\nsalesforce:\n  url: http://acme.my.salesforce.com\n  token: x\n", encoding="utf-8")
    monkeypatch.setenv("MY_HUBSPOT_TOKEN", "pat-from-file-variable")
    assert connection("hubspot", str(config)).token == "pat-from-file-variable"
    monkeypatch.setenv("DEALCOACH_HUBSPOT_TOKEN", "pat-from-dealcoach-variable")
    found = connection("hubspot", str(config))
    assert (found.token, found.url) == ("pat-from-dealcoach-variable", "https://api.hubapi.com") and "pat-" not in repr(found)
    with pytest.raises(CrmConnectionError, match="must be https"):
        connection("salesforce", str(config))
    with pytest.raises(CrmConnectionError, match="no url, db, uid, password: set DEALCOACH_ODOO_URL"):
        connection("odoo", str(config))


def test_cli_sync_writes_back_every_record_and_names_the_skipped(tmp_path, monkeypatch) -> None:
    crm = Crm()
    with crm_server(crm) as base:
        monkeypatch.setenv("DEALCOACH_SALESFORCE_URL", f"{base}/salesforce")
        monkeypatch.setenv("DEALCOACH_SALESFORCE_TOKEN", SALESFORCE_TOKEN)
        result = CliRunner().invoke(cli, ["sync", str(EXAMPLES / FILES["salesforce"]), "--from", "salesforce", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["deal_id"], line["ok"], "skipped" in line) for line in lines] == [
        ("0065g00000AbCdEAAV", True, False), ("0065g00000AbCdFAAV", True, False), ("0065g00000AbCdGAAV", True, True)]
    patched = [w["path"].rsplit("/", 1)[1] for w in crm.written("salesforce") if w["method"] == "PATCH" and "Dealcoach_Grade__c" in w["body"]]
    assert patched == ["0065g00000AbCdEAAV", "0065g00000AbCdFAAV"]  # nothing written on the lost deal
    assert "written: 0065g00000AbCdFAAV (Plant 3 energy monitoring) task1" in result.stderr


def test_cli_sync_exit_8_when_a_write_is_refused_and_2_without_a_connection(tmp_path, monkeypatch) -> None:
    crm = Crm(missing_fields={"x_dealcoach_grade"})
    with crm_server(crm) as base:
        for key, value in {"URL": f"{base}/odoo", "DB": ODOO["db"], "UID": str(ODOO["uid"]), "PASSWORD": ODOO["password"]}.items():
            monkeypatch.setenv(f"DEALCOACH_ODOO_{key}", value)
        refused = CliRunner().invoke(cli, ["sync", str(EXAMPLES / FILES["odoo"]), "--from", "odoo", "--as-of", AS_OF, "--record", "crm.lead/57"])
    assert refused.exit_code == 8
    assert "NOT WRITTEN: crm.lead/57 (Cold-room sensors - 3 sites) fields (HTTP 502): builtins.ValueError" in refused.stderr
    monkeypatch.delenv("DEALCOACH_ODOO_PASSWORD")
    missing = CliRunner().invoke(cli, ["sync", str(EXAMPLES / FILES["odoo"]), "--from", "odoo", "--as-of", AS_OF])
    assert missing.exit_code == 2 and "no password: set DEALCOACH_ODOO_PASSWORD" in missing.output


def test_cli_sync_dry_run_prints_the_requests_without_credentials(monkeypatch) -> None:
    monkeypatch.setenv("DEALCOACH_ODOO_PASSWORD", "never-shown-0123456789")
    arguments = ["sync", str(EXAMPLES / FILES["odoo"]), "--from", "odoo", "--as-of", AS_OF, "--dry-run", "--record", "crm.lead/42"]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    [line] = [json.loads(line) for line in result.stdout.splitlines()]
    first = line["requests"][0]
    assert first["body"]["params"]["args"][:5] == ["<database>", "<user id>", "<API key>", "crm.lead", "write"]
    assert [r["what"] for r in line["requests"]] == ["fields", "note", "task1", "task2", "task3", "fingerprint"]
    assert "never-shown" not in result.output


def test_the_note_s_texts_are_the_review_s_own_only_the_folded_cards_are_left_unrendered(coach) -> None:
    report = coach.review(str(ROOT / "examples" / "example-deal.zh.yaml"))
    full = coach.renderer.localise(report, "zh")
    shown = coach.renderer.localise(report, "zh", shown_only=True)
    assert any(card.folded for card in report.cards)  # the example has folded cards: the saving is real
    for whole, part in zip(full.cards, shown.cards, strict=True):
        assert part.text == (None if whole.folded else whole.text)
    assert coach.renderer.crm_note(shown, "zh") == coach.renderer.crm_note(full, "zh")
