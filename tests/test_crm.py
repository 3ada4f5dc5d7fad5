"""CRM records → deals, driven by mapping files: Salesforce, HubSpot, Odoo. Unmapped values are reported, never guessed."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from click.testing import CliRunner

import dealcoach
from dealcoach.cli import cli
from dealcoach.crm import MappingError, convert, load_mapping

from helpers import HERE

RECORDS = {
    "salesforce": HERE / "crm" / "salesforce-opportunity.json",
    "hubspot": HERE / "crm" / "hubspot-deal.json",
    "odoo": HERE / "crm" / "odoo-lead.json",
}
AS_OF = "2026-11-20"


def record(kind: str) -> dict:
    return json.loads(RECORDS[kind].read_text(encoding="utf-8"))


def test_salesforce_opportunity() -> None:
    document = convert("salesforce", record("salesforce"), as_of=AS_OF)
    assert (document["stage"], document["buying_step"], document["stage_entered"]) == ("proposal", "set_specifications", "2026-09-02")
    assert document["currency"] == "USD" and document["owner"] == "Anna Keller"
    people = {c["name"]: c for c in document["contacts"]}
    assert people["Grace Liu"]["roles"] == ["decision_maker"]
    assert people["Tom Okafor"]["roles"] == ["technical_gatekeeper"]
    assert people["Priya Nair"]["supporter"] == ["sponsor"] and people["Priya Nair"]["power"] == "core"
    assert document["competitors"] == [{"name": "Rockwell Automation"}]
    report = dealcoach.review(document)
    assert {"DC406", "DC303"} <= {f.code for f in report.findings}


def test_salesforce_stage_entered_from_history_when_no_last_stage_change() -> None:
    opportunity = record("salesforce")
    del opportunity["LastStageChangeDate"]
    assert convert("salesforce", opportunity, as_of=AS_OF)["stage_entered"] == "2026-09-02"


def test_hubspot_deal_with_association_labels() -> None:
    document = convert("hubspot", record("hubspot"), as_of=AS_OF)
    assert (document["stage"], document["stage_entered"], document["amount"], document["currency"]) == ("proposal", "2026-10-06", 95000.0, "EUR")
    people = {c["name"]: c for c in document["contacts"]}
    assert people["Mikko Virtanen"]["roles"] == ["decision_maker"] and people["Mikko Virtanen"]["last_contact"] == "2026-07-20"
    assert people["Sara Lund"]["supporter"] == ["sponsor"] and people["Sara Lund"]["stance"] == "supports"
    assert dealcoach.review(document).deal_id == "18523467901"


def test_odoo_lead() -> None:
    document = convert("odoo", record("odoo"), as_of=AS_OF)
    assert (document["id"], document["stage"], document["stage_entered"], document["currency"]) == ("crm.lead/42", "sales_entry", "2026-10-20", "USD")
    assert document["customer"]["name"] == "Deco Addict" and document["contacts"][0]["title"] == "Logistics Manager"
    assert "DC607" in {f.code for f in dealcoach.review(document).findings}  # 36,000 is under the funnel threshold


def test_unmapped_values_are_all_reported_with_their_fields() -> None:
    opportunity = record("salesforce")
    opportunity["StageName"] = "Site Survey"  # an org's own stage
    opportunity["OpportunityContactRoles"]["records"][0]["Role"] = "Gatekeeper"
    with pytest.raises(MappingError) as caught:
        convert("salesforce", opportunity, as_of=AS_OF)
    paths = {p.path: p.message for p in caught.value.problems}
    assert "stage 'Site Survey' is not in the mapping" in paths["StageName"]
    assert "contact role 'Gatekeeper' is not in the mapping" in paths["OpportunityContactRoles[0].Role"]


def test_hubspot_unknown_label_and_missing_stage_date() -> None:
    bundle = record("hubspot")
    bundle["associations"][0]["associationTypes"][1]["label"] = "Budget holder"
    del bundle["deal"]["properties"]["hs_v2_date_entered_presentationscheduled"]
    with pytest.raises(MappingError) as caught:
        convert("hubspot", bundle, as_of=AS_OF)
    messages = " | ".join(p.message for p in caught.value.problems)
    assert "association label 'Budget holder' is not in the mapping" in messages
    assert "hs_v2_date_entered_presentationscheduled" in messages


def test_a_company_mapping_maps_custom_fields(tmp_path) -> None:
    mapping = yaml.safe_load((load_mapping.__globals__["MAPPINGS_DIR"] / "salesforce.yaml").read_text(encoding="utf-8"))
    mapping["fields"] = {"buying_step": "Buying_Step__c", "milestones": "Milestones__c"}
    mapping["contact_fields"] = {"stance": "Contact.Stance__c"}
    path = tmp_path / "acme-salesforce.yaml"
    path.write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    opportunity = record("salesforce")
    opportunity["Buying_Step__c"] = "supplier_screening"
    opportunity["Milestones__c"] = "need_confirmed;opportunity_evaluated"
    opportunity["OpportunityContactRoles"]["records"][1]["Contact"]["Stance__c"] = "opposes"
    document = convert("salesforce", opportunity, as_of=AS_OF, mapping=load_mapping("salesforce", path))
    assert document["buying_step"] == "supplier_screening" and document["milestones"] == ["need_confirmed", "opportunity_evaluated"]
    codes = {f.code for f in dealcoach.review(document).findings}
    assert {"DC102", "DC304"} <= codes  # ahead of the customer; the technical gatekeeper opposes


def test_mapping_for_another_crm_is_refused(tmp_path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text((load_mapping.__globals__["MAPPINGS_DIR"] / "odoo.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(MappingError, match="this mapping is for 'odoo'"):
        load_mapping("salesforce", path)


@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_cli_review_from_a_crm_record(kind: str) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["review", str(RECORDS[kind]), "--from", kind, "--as-of", AS_OF, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["as_of"] == AS_OF
    assert runner.invoke(cli, ["review", str(RECORDS[kind]), "--from", kind]).exit_code == 2  # --as-of is required


def test_cli_gate_from_a_crm_record_with_unmapped_stage(tmp_path) -> None:
    opportunity = record("salesforce")
    opportunity["StageName"] = "Site Survey"  # an org's own stage
    path = tmp_path / "opp.json"
    path.write_text(json.dumps(opportunity), encoding="utf-8")
    result = CliRunner().invoke(cli, ["gate", str(path), "--from", "salesforce", "--as-of", AS_OF, "--to", "bidding"])
    assert result.exit_code == 3 and "StageName: stage 'Site Survey' is not in the mapping" in result.output


def test_record_is_not_modified() -> None:
    original = record("hubspot")
    copied = copy.deepcopy(original)
    convert("hubspot", copied, as_of=AS_OF)
    assert copied == original
