"""The service's OpenAPI contract, for API gateways and importers such as Salesforce External Services.

FastAPI generates OpenAPI 3.1 from the routes; `contract` corrects what the routes cannot say:

- bearer security (`securitySchemes`, applied globally); an operation whose route does not depend on the
  service's authoriser (`app.state.authorise`) is marked `security: []`; secured operations document 401;
- `servers` (the given URL, or a relative `/`);
- every 4xx / 5xx answer is `application/problem+json` with the Problem schema (what the server sends);
- the brief's 200 answer: `BriefAnswer` as JSON, a string as Markdown or HTML;
- CRM record bodies: one schema per CRM (permissive: the shapes are documented, not enforced) and a named
  example per CRM; a Deal body, and the query parameters a request needs, get an example too.

`to_openapi_30` down-converts any 3.1 document to 3.0.3 (nullable, const, $defs, prefixItems ...), walking
every schema of it rather than today's models. `install` serves both from the app.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, Literal

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema

from ..engine.brief import Brief
from .problems import PROBLEM, Problem

__all__ = ["OPENAPI_30_PATH", "contract", "dumps", "install", "to_openapi_30"]

Version = Literal["3.0", "3.1"]
OPENAPI_30_PATH = "/v1/openapi-3.0.json"
BRIEF_PATH = "/v1/brief"
SCHEMAS = "#/components/schemas/"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _ref(name: str) -> dict:
    return {"$ref": SCHEMAS + name}


# -- the brief as JSON (engine.brief_rendering: {"brief": Brief, "text": the localised view}) -------------------


class _View(BaseModel):
    model_config = ConfigDict(extra="allow")


class BriefDealView(_View):
    customer: str
    amount: str
    stage: str
    step: str
    grade: str
    days: int


class BriefAttendeeView(_View):
    name: str
    title: str
    title_in_parens: str
    roles: str
    power: str
    stance: str
    supporter: str
    cares: list[str]
    talk: str
    questions: list[str]
    ask_label: str
    after: str
    reduce: list[str]


class BriefQuestionView(_View):
    text: str
    whom: str


class BriefView(_View):
    """The brief as localised strings, as the HTML and Markdown show them."""

    lang: str
    title: str
    purpose: str
    meeting: str
    deal: BriefDealView
    blocking: list[str]
    lead_label: str
    lead: list[str]
    attendees: list[BriefAttendeeView]
    best: str
    minimum: str
    questions: list[BriefQuestionView]
    labels: dict[str, str]
    ruleset: str


class BriefAnswer(BaseModel):
    """POST /v1/brief?format=json: the brief's data and its localised text."""

    brief: Brief
    text: BriefView


# -- CRM record bodies -------------------------------------------------------------------------------------


def _object(description: str, **properties: Any) -> dict:
    """A permissive object schema: the named properties are typed, any other property is allowed."""
    return {"type": "object", "description": description, "properties": properties}


def _text(description: str = "") -> dict:
    return {"type": ["string", "null"], **({"description": description} if description else {})}


def _array(items: dict, description: str = "") -> dict:
    return {"type": "array", "items": items, **({"description": description} if description else {})}


def _number_or_text(description: str) -> dict:
    return {"type": ["number", "string", "null"], "description": description}


def _soql(items: dict, description: str) -> dict:
    return _object(description, totalSize={"type": "integer"}, done={"type": "boolean"}, nextRecordsUrl={"type": "string"},
                   records=_array(items))


_ODOO_EMPTY = {"const": False, "description": "Odoo's empty value"}
_MANY2ONE = {"anyOf": [{"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "minItems": 2, "maxItems": 2},
                       _ODOO_EMPTY], "description": 'A many2one field: [id, "display name"], or false when empty.'}


def _odoo_text(description: str = "") -> dict:
    return {"anyOf": [{"type": "string"}, _ODOO_EMPTY], **({"description": description} if description else {})}


def _pages(response: dict, description: str) -> dict:
    """A query response, or a list of page responses."""
    return {"anyOf": [response, _array(response)], "description": description}


def _crm_schemas() -> dict[str, dict]:
    """The CRM record schemas, named for components/schemas. Permissive: they document the shapes each CRM
    adapter reads (crm/*.py) and never refuse a property the adapter might read."""
    soql_child = {"type": "object"}
    opportunity = _object(
        "One Opportunity of a SOQL query (REST API) with the sub-queries OpportunityContactRoles, "
        "OpportunityCompetitors and OpportunityHistories.",
        Id={"type": "string"}, Name={"type": "string"}, Amount={"type": ["number", "null"]}, CurrencyIsoCode=_text("multi-currency orgs only"),
        StageName={"type": "string"}, CloseDate=_text("YYYY-MM-DD"), LastStageChangeDate=_text(), CreatedDate=_text(),
        Account=_object("The account (customer).", Name={"type": "string"}, Industry=_text()),
        Owner=_object("The opportunity owner.", Name={"type": "string"}),
        OpportunityContactRoles=_soql(_object("A contact role.", ContactId={"type": "string"}, Role=_text(), IsPrimary={"type": "boolean"},
                                              Contact=_object("The contact.", Name={"type": "string"}, Title=_text())),
                                      "Buying roles: the sub-query's response."),
        OpportunityCompetitors=_soql(soql_child, "Competitors: the sub-query's response."),
        OpportunityHistories=_soql(soql_child, "Stage history: the sub-query's response."),
    )
    soql_response = _soql(_ref("SalesforceOpportunity"), "A SOQL query's response: one deal per record (a page that is not done is noted).")
    hubspot_object = _object("A HubSpot CRM v3 object; property values are strings.", id={"type": "string"},
                             properties={"type": "object"}, associations={"type": "object"}, archived={"type": "boolean"})
    hubspot_response = _object("A v3 batch read, search or list answer (or a v4 association batch read).", status={"type": "string"},
                               results=_array({"type": "object"}), paging={"type": "object"}, errors=_array({"type": "object"}))
    hubspot_label = _object("A v4 association to a contact; USER_DEFINED labels are buying roles.",
                            toObjectId={"type": ["integer", "string"]},
                            associationTypes=_array(_object("", category={"type": "string"}, typeId={"type": "integer"}, label=_text())))
    odoo_lead = _object(
        "A crm.lead record from JSON-RPC search_read; many2one fields are [id, name], empty fields false.",
        id={"type": "integer"}, name={"type": "string"}, partner_id=_MANY2ONE, partner_name=_odoo_text(), contact_name=_odoo_text(),
        function=_odoo_text("the contact's job title"), expected_revenue={"type": "number"}, company_currency=_MANY2ONE, stage_id=_MANY2ONE,
        date_deadline=_odoo_text("YYYY-MM-DD"), date_last_stage_update=_odoo_text("YYYY-MM-DD HH:MM:SS"), user_id=_MANY2ONE,
    )
    odoo_rpc = _object("A JSON-RPC answer around search_read's list (or web_search_read's {length, records}).",
                       jsonrpc={"const": "2.0"}, id={"type": ["integer", "string", "null"]},
                       result={"anyOf": [_array(_ref("OdooLead")), _object("", length={"type": "integer"}, records=_array(_ref("OdooLead")))]},
                       error={"type": "object"})
    fxiaoke_opportunity = _object(
        "A 商机 2.0 NewOpportunityObj record.", _id={"type": "string"}, name={"type": "string"}, amount=_number_or_text('e.g. "1200000.00"'),
        close_date={"type": ["integer", "null"], "description": "epoch milliseconds"}, stg_changed_time={"type": ["integer", "null"]},
        sales_stage={"type": "string", "description": "an option value of the company's sales process"}, account_id__r=_text("the customer"),
        owner=_array({"type": "string"}), owner__r=_object("", name={"type": "string"}),
    )

    def fxiaoke_response(records: dict, what: str) -> dict:
        return _object(f"The answer of POST /cgi/crm/v2/data/query for {what}; errorCode 0 is success.", traceId={"type": "string"},
                       errorCode={"type": ["integer", "string"]}, errorMessage={"type": "string"},
                       data=_object("", total={"type": "integer"}, offset={"type": "integer"}, limit={"type": "integer"},
                                    dataList=_array(records)))

    neocrm_opportunity = _object(
        "An opportunity record of an XOQL query, relations flattened.", id={"type": ["integer", "string"]}, opportunityName={"type": "string"},
        money=_number_or_text("the amount"), saleStageId={"type": ["integer", "string"]}, closeDate={"type": ["integer", "null"]},
        stageUpdatedAt={"type": ["integer", "null"]}, **{"accountId.accountName": _text("the customer"), "ownerId.name": _text("the owner")},
    )

    def neocrm_response(records: dict, what: str) -> dict:
        page = _object("", totalSize={"type": "integer"}, count={"type": "integer"}, records=_array(records))
        return _object(f"The answer of an XOQL query for {what} (code \"200\" is success; the older v2 query answers `result`).",
                       code={"type": ["string", "integer"]}, msg={"type": "string"}, data=page, result=page)

    def bundle(crm: str, label: str) -> dict:
        part = _pages(_ref(f"{crm}Response"), "")
        return _object(f"The {label} query responses of the opportunities and their related objects.",
                       opportunities=_pages(_ref(f"{crm}Opportunities"), ""), contacts=part, competitors=part, people=part)

    return {
        "SalesforceOpportunity": opportunity,
        "SalesforceQueryResponse": soql_response,
        "SalesforceRecord": {
            "description": "Salesforce: one Opportunity, a SOQL query response, or a list of page responses.",
            "anyOf": [_ref("SalesforceOpportunity"), _ref("SalesforceQueryResponse"), _array(_ref("SalesforceQueryResponse"))],
        },
        "HubspotObject": hubspot_object,
        "HubspotResponse": hubspot_response,
        "HubspotRecord": {
            "description": "HubSpot: one deal's bundle {deal, contacts, companies, associations}, or a page bundle of batch answers "
                           "{deals, contacts, companies, contact_associations, company_associations, owners}.",
            "anyOf": [
                _object("One deal.", deal=_ref("HubspotObject"), contacts=_array(_ref("HubspotObject")),
                        companies=_array(_ref("HubspotObject")), associations=_array(hubspot_label)),
                _object("A page of deals.", **{part: _pages(_ref("HubspotResponse"), "") for part in (
                    "deals", "contacts", "companies", "contact_associations", "company_associations", "owners")}),
            ],
        },
        "OdooLead": odoo_lead,
        "OdooJsonRpc": odoo_rpc,
        "OdooRecord": {
            "description": "Odoo: one crm.lead, search_read's list of them, its JSON-RPC answer, or a list of such answers (pages).",
            "anyOf": [_ref("OdooLead"), _ref("OdooJsonRpc"), _array({"anyOf": [_ref("OdooLead"), _ref("OdooJsonRpc")]})],
        },
        "FxiaokeOpportunity": fxiaoke_opportunity,
        "FxiaokeOpportunities": fxiaoke_response(_ref("FxiaokeOpportunity"), "NewOpportunityObj"),
        "FxiaokeResponse": fxiaoke_response({"type": "object"}, "a related object"),
        "FxiaokeRecord": {
            "description": "纷享销客: a query response for NewOpportunityObj, or a bundle adding NewOpportunityContactsObj, "
                           "CompetitiveLinesObj and ContactObj responses.",
            "anyOf": [_ref("FxiaokeOpportunities"), bundle("Fxiaoke", "纷享销客")],
        },
        "NeocrmOpportunity": neocrm_opportunity,
        "NeocrmOpportunities": neocrm_response(_ref("NeocrmOpportunity"), "opportunity"),
        "NeocrmResponse": neocrm_response({"type": "object"}, "a related object"),
        "NeocrmRecord": {
            "description": "销售易: an XOQL query response for opportunity, or a bundle adding the opportunity-contact, competitor "
                           "and contact responses.",
            "anyOf": [_ref("NeocrmOpportunities"), bundle("Neocrm", "销售易")],
        },
    }


def _crm_record_schema(kinds: list[str]) -> dict:
    return {
        "description": "A CRM's own record or query response, as the CRM returned it; `{crm}` in the path says which. Read through "
                       "the CRM's mapping file: every stage, role or picklist value must be in it.",
        "anyOf": [_ref(f"{kind.capitalize()}Record") for kind in kinds],
    }


_SF_ATTRIBUTES = {"type": "Opportunity", "url": "/services/data/v62.0/sobjects/Opportunity/0065g00000AbCdEAAV"}
_SF_OPPORTUNITY = {
    "attributes": _SF_ATTRIBUTES, "Id": "0065g00000AbCdEAAV", "Name": "Line 2 MES rollout", "Amount": 480000.0,
    "CurrencyIsoCode": "USD", "StageName": "Perception Analysis", "CloseDate": "2027-03-31",
    "LastStageChangeDate": "2026-09-02T06:15:00.000+0000", "Account": {"Name": "Apex Components Ltd", "Industry": "Manufacturing"},
    "Owner": {"Name": "Anna Keller"},
    "OpportunityContactRoles": {"totalSize": 2, "done": True, "records": [
        {"ContactId": "0035g00000C1AAA", "Role": "Economic Buyer", "IsPrimary": False, "Contact": {"Name": "Grace Liu", "Title": "COO"}},
        {"ContactId": "0035g00000C2AAA", "Role": "Technical Buyer", "IsPrimary": True,
         "Contact": {"Name": "Tom Okafor", "Title": "Head of Automation"}},
    ]},
    "OpportunityCompetitors": {"totalSize": 1, "done": True, "records": [{"CompetitorName": "Rockwell Automation"}]},
}
_HUBSPOT_DEAL = {
    "id": "18523467901", "archived": False,
    "properties": {"amount": "95000", "closedate": "2027-01-30T00:00:00Z", "deal_currency_code": "EUR",
                   "dealname": "Nordic Foods - cold chain monitoring", "dealstage": "presentationscheduled",
                   "hs_v2_date_entered_presentationscheduled": "2026-10-06T10:31:00.000Z", "pipeline": "default"},
    "associations": {"contacts": {"results": [{"id": "901", "type": "deal_to_contact"}]},
                     "companies": {"results": [{"id": "7340012", "type": "deal_to_company"}]}},
}
_HUBSPOT_CONTACT = {"id": "901", "properties": {"firstname": "Mikko", "lastname": "Virtanen", "jobtitle": "CFO",
                                                "notes_last_contacted": "2026-11-02T08:00:00.000Z"}}
_HUBSPOT_COMPANY = {"id": "7340012", "properties": {"name": "Nordic Foods AB"}}
_HUBSPOT_LABELS = [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None},
                   {"category": "USER_DEFINED", "typeId": 27, "label": "Decision maker"}]
_ODOO_LEAD = {
    "id": 42, "name": "Warehouse scanners - 120 units", "partner_id": [7, "Deco Addict"], "partner_name": "Deco Addict",
    "contact_name": "Douglas Fletcher", "function": "Logistics Manager", "expected_revenue": 36000.0, "company_currency": [1, "USD"],
    "stage_id": [2, "Qualified"], "date_deadline": "2027-02-15", "date_last_stage_update": "2026-10-20 08:41:12",
    "user_id": [2, "Mitchell Admin"], "email_from": False,
}
_FXIAOKE_OPPORTUNITY = {
    "_id": "65f0a1b2c3d4e50001a1b2c3", "name": "二期冲压线MES改造", "amount": "2860000.00", "close_date": 1806422400000,
    "stg_changed_time": 1791530400000, "account_id": "65e9f0a1b2c3d40001ffee01", "account_id__r": "江苏恒力汽车部件有限公司",
    "sales_stage": "3", "sales_status": "1", "owner": ["1000"], "owner__r": {"id": "1000", "name": "周凯"},
}
_FXIAOKE_CONTACT = {"_id": "6601", "new_opportunity_id": "65f0a1b2c3d4e50001a1b2c3", "contact_id": "7701", "contact_id__r": "陈国华",
                    "role__c": "决策者", "stance__c": "neutral", "power__c": "core", "last_visit__c": 1785340800000}


def _fxiaoke_answer(records: list[dict]) -> dict:
    return {"traceId": "E-O.74164.1000-5f2a9c0d41b84e3e", "errorCode": 0, "errorMessage": "OK",
            "data": {"offset": 0, "limit": 100, "total": len(records), "dataList": records}}


_NEOCRM_OPPORTUNITY = {
    "id": 1473854063886983, "opportunityName": "电网在线监测二期", "money": 3600000.0, "saleStageId": 915960, "closeDate": 1809014400000,
    "stageUpdatedAt": 1789711200000, "accountId": 1411588178395813, "accountId.accountName": "国网某省电力公司",
    "ownerId": 1378892319440940, "ownerId.name": "刘洋",
}
_NEOCRM_CONTACT = {"id": 2002, "opportunityId": 1473854063886983, "contactId": 3002, "contactId.contactName": "高建新",
                   "contactId.post": "分管副总经理", "contactRole": ["决策人"]}


def _neocrm_answer(records: list[dict]) -> dict:
    return {"code": "200", "msg": "success", "data": {"totalSize": len(records), "count": len(records), "records": records}}


CRM_EXAMPLES: dict[str, dict[str, dict]] = {
    "salesforce": {
        "salesforce": {"summary": "Salesforce: one Opportunity of a SOQL query", "value": _SF_OPPORTUNITY},
        "salesforce-query": {"summary": "Salesforce: the SOQL query's response",
                             "value": {"totalSize": 1, "done": True, "records": [_SF_OPPORTUNITY]}},
    },
    "hubspot": {
        "hubspot": {"summary": "HubSpot: one deal with its contacts, company and association labels", "value": {
            "deal": _HUBSPOT_DEAL, "contacts": [_HUBSPOT_CONTACT], "companies": [_HUBSPOT_COMPANY],
            "associations": [{"toObjectId": 901, "associationTypes": _HUBSPOT_LABELS}],
        }},
        "hubspot-page": {"summary": "HubSpot: a page of deals, as the batch reads answered", "value": {
            "deals": {"status": "COMPLETE", "results": [_HUBSPOT_DEAL]},
            "contacts": {"status": "COMPLETE", "results": [_HUBSPOT_CONTACT]},
            "companies": {"status": "COMPLETE", "results": [_HUBSPOT_COMPANY]},
            "contact_associations": {"status": "COMPLETE", "results": [
                {"from": {"id": "18523467901"}, "to": [{"toObjectId": 901, "associationTypes": _HUBSPOT_LABELS}]}]},
        }},
    },
    "odoo": {
        "odoo": {"summary": "Odoo: one crm.lead", "value": _ODOO_LEAD},
        "odoo-search-read": {"summary": "Odoo: search_read's list of leads", "value": [_ODOO_LEAD]},
        "odoo-json-rpc": {"summary": "Odoo: the JSON-RPC answer", "value": {"jsonrpc": "2.0", "id": 1, "result": [_ODOO_LEAD]}},
    },
    "fxiaoke": {
        "fxiaoke": {"summary": "纷享销客: opportunities with their contacts (a company mapping names the stages and roles)", "value": {
            "opportunities": _fxiaoke_answer([_FXIAOKE_OPPORTUNITY]), "contacts": _fxiaoke_answer([_FXIAOKE_CONTACT]),
        }},
    },
    "neocrm": {
        "neocrm": {"summary": "销售易: opportunities with their contacts (a company mapping names the stages and roles)", "value": {
            "opportunities": _neocrm_answer([_NEOCRM_OPPORTUNITY]), "contacts": _neocrm_answer([_NEOCRM_CONTACT]),
        }},
    },
}

# -- deal bodies and query parameters ----------------------------------------------------------------------

DEAL_EXAMPLE: dict = {
    "id": "EU-2026-112", "name": "Plant-wide energy monitoring retrofit", "owner": "Anna Keller",
    "customer": {"name": "Nordwerk Cement AG", "industry": "Building materials"}, "amount": 840000, "currency": "EUR",
    "stage_model": "lead-to-contract-5", "stage": "solution_evaluation", "stage_entered": "2026-09-01",
    "buying_step": "need_confirmed_and_funded", "expected_close": "2027-02-28", "as_of": "2026-11-20",
    "contacts": [
        {"id": "berg", "name": "Thomas Berg", "title": "Plant Director", "roles": ["decision_maker"], "power": "core",
         "stance": "neutral", "last_contact": "2026-06-02"},
        {"id": "weiss", "name": "Jonas Weiss", "title": "Energy Manager", "roles": ["user"], "power": "political",
         "stance": "supports", "supporter": ["sponsor"], "last_contact": "2026-11-17"},
    ],
    "budget": {"amount": 900000, "evidence": "our_estimate"},
    "competitors": [{"name": "Siemens", "incumbent": True}],
    "milestones": ["lead_qualified", "need_confirmed"],
}
BODY_EXAMPLES: dict[str, dict[str, dict]] = {  # by the body schema's component name
    "Deal": {"deal": {"summary": "A deal", "value": DEAL_EXAMPLE}},
    "ChangesRequest": {"changes": {"summary": "The deal at the last review and now", "value": {
        "previous": {**DEAL_EXAMPLE, "as_of": "2026-10-20", "milestones": ["lead_qualified"],
                     "contacts": [DEAL_EXAMPLE["contacts"][0], {**DEAL_EXAMPLE["contacts"][1], "last_contact": "2026-10-12"}]},
        "current": DEAL_EXAMPLE}}},
    "BatchRequest": {"batch": {"summary": "A batch of deals", "value": {"deals": [DEAL_EXAMPLE]}}},
}
PARAMETER_EXAMPLES = {  # by name, for the request examples above
    "to": "negotiation", "as_of": "2026-11-20", "attendees": "berg,weiss", "date": "2026-11-25", "purpose": "technical_exchange",
}

# -- the 3.1 contract --------------------------------------------------------------------------------------


def contract(app: FastAPI, version: Version = "3.1", server_url: str | None = None, *, token_required: bool = True) -> dict:
    """The app's OpenAPI document, corrected, as OpenAPI 3.1 or 3.0.3 (a new dict; the app is not changed).

    `token_required=False` documents a service started without a token: the bearer token is optional."""
    if version not in ("3.0", "3.1"):
        raise ValueError(f"OpenAPI version {version!r} is not supported; allowed: 3.0, 3.1")
    document = copy.deepcopy(FastAPI.openapi(app))  # the generated document, even when install() replaced app.openapi
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _add_models(schemas, [Problem, BriefAnswer])
    secured = _secured_operations(app)
    for path, method, operation in _operations(document):
        _problem_answers(operation, needs_token=secured is not None and (path, method) in secured)
        _examples(operation, schemas)
        if secured is not None and (path, method) not in secured:
            operation["security"] = []
    if secured is not None:
        document["components"]["securitySchemes"] = {"bearer": {
            "type": "http", "scheme": "bearer",
            "description": "The service's token (`dealcoach serve --token-file`, or DEALCOACH_API_TOKEN). A service started "
                           "without a token accepts requests without it.",
        }}
        document["security"] = [{"bearer": []}] if token_required else [{"bearer": []}, {}]
    if server_url or not document.get("servers"):
        document["servers"] = [{"url": server_url or "/"}]
    _type_brief(document)
    _type_crm_bodies(document, schemas)
    _prune(document)
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return to_openapi_30(document) if version == "3.0" else document


def _add_models(schemas: dict, models: list[type[BaseModel]]) -> None:
    """The models' schemas into components/schemas; a name already there must name the same schema."""
    _, top = models_json_schema([(model, "serialization") for model in models], ref_template=SCHEMAS + "{model}")
    for name, schema in top.get("$defs", {}).items():
        if name not in schemas:
            schemas[name] = schema
        elif _bare(schemas[name]) != _bare(schema):
            raise RuntimeError(f"two different schemas are named {name!r} in the OpenAPI document")


def _bare(schema: Any) -> Any:
    """A schema without its annotations (title, description, default), for comparing two of them."""
    if isinstance(schema, dict):
        return {k: _bare(v) for k, v in schema.items() if k not in ("title", "description", "default")}
    if isinstance(schema, list):
        return [_bare(v) for v in schema]
    return schema


def _operations(document: dict) -> Iterator[tuple[str, str, dict]]:
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if isinstance(item.get(method), dict):
                yield path, method, item[method]


def _secured_operations(app: FastAPI) -> set[tuple[str, str]] | None:
    """(path, method) of every operation whose route depends on `app.state.authorise`; None when the app has none."""
    authorise = getattr(app.state, "authorise", None)
    if authorise is None:
        return None

    def depends(dependant) -> bool:
        return any(d.call is authorise or depends(d) for d in dependant.dependencies)

    contexts = getattr(fastapi.routing, "iter_route_contexts", lambda routes: routes)(app.routes)  # FastAPI < 0.1xx: flat routes
    return {
        (route.path_format, method.lower())
        for route in contexts
        if getattr(route, "include_in_schema", False) and hasattr(route, "dependant") and depends(route.dependant)
        for method in route.methods
    }


_STATUS_TEXT = {"401": "Unauthorised: a valid bearer token is required", "500": "Internal error (logged)"}


def _problem_answers(operation: dict, needs_token: bool) -> None:
    """Every error answer as application/problem+json with the Problem schema; 401 when a token is needed, 500 always."""
    responses = operation.setdefault("responses", {})
    for status in ("401",) * needs_token + ("500",):
        responses.setdefault(status, {"description": _STATUS_TEXT[status]})
    for status, response in responses.items():
        if status == "default" or status[0] in "45":
            response["content"] = {PROBLEM: {"schema": _ref("Problem")}}
    operation["responses"] = dict(sorted(responses.items()))


def _examples(operation: dict, schemas: dict) -> None:
    """An example for a Deal, changes or batch body and for the query parameters such a request needs; no null
    in a parameter's schema (a query string has no null)."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    target = body.get("schema", {}).get("$ref", "") if body else ""
    name = target.removeprefix(SCHEMAS)
    if name in BODY_EXAMPLES and name in schemas:
        body["examples"] = BODY_EXAMPLES[name]
    for parameter in operation.get("parameters", []):
        if isinstance(parameter.get("schema"), dict):  # a parameter left out is absent, never null
            parameter["schema"] = _without_null(parameter["schema"])
        if parameter.get("name") in PARAMETER_EXAMPLES and "example" not in parameter and parameter.get("in") != "path":
            parameter["example"] = PARAMETER_EXAMPLES[parameter["name"]]


def _without_null(schema: dict) -> dict:
    """An optional parameter's `anyOf: [X, {type: null}]` as X."""
    branches = [b for b in schema.get("anyOf", []) if not _is_null(b)]
    if "anyOf" not in schema or len(branches) != 1:
        return schema
    outer = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**branches[0], **outer}


def _type_brief(document: dict) -> None:
    answer = document.get("paths", {}).get(BRIEF_PATH, {}).get("post", {}).get("responses", {}).get("200")
    if answer is not None:
        answer["description"] = "The brief in the media type `format` names: JSON, Markdown (one chat message) or printable HTML."
        answer["content"] = {
            "application/json": {"schema": _ref("BriefAnswer")},
            "text/markdown": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
        }


def _type_crm_bodies(document: dict, schemas: dict) -> None:
    """A body of an operation with a `crm` path parameter is the CRM's record: typed, with examples per CRM."""
    crm_schemas = _crm_schemas()
    for _, _, operation in _operations(document):
        crm = next((p for p in operation.get("parameters", []) if p.get("name") == "crm" and p.get("in") == "path"), None)
        if crm is None or "requestBody" not in operation:
            continue
        kinds = [kind for kind in crm.get("schema", {}).get("enum", []) if f"{kind.capitalize()}Record" in crm_schemas]
        schemas.update(crm_schemas)
        schemas["CrmRecord"] = _crm_record_schema(kinds)
        for kind in kinds:  # the CRM's own example on its schema too (3.0: `example`)
            if kind in CRM_EXAMPLES.get(kind, {}):
                schemas[f"{kind.capitalize()}Record"]["examples"] = [CRM_EXAMPLES[kind][kind]["value"]]
        examples = {name: example for kind in kinds for name, example in CRM_EXAMPLES.get(kind, {}).items()}
        if kinds:
            crm["example"] = kinds[0]
        operation["requestBody"]["content"] = {"application/json": {"schema": _ref("CrmRecord"), "examples": examples}}


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            yield value["$ref"]
        for child in value.values():
            yield from _references(child)
    elif isinstance(value, list):
        for child in value:
            yield from _references(child)


def _prune(document: dict) -> None:
    """Drop component schemas nothing refers to any more (FastAPI's validation-error schemas, once replaced)."""
    schemas = document["components"]["schemas"]
    outside = {k: v for k, v in document.items() if k != "components"} | {
        "components": {k: v for k, v in document["components"].items() if k != "schemas"}}
    used: set[str] = set()
    todo = [r.removeprefix(SCHEMAS).split("/")[0] for r in _references(outside) if r.startswith(SCHEMAS)]
    while todo:
        name = todo.pop()
        if name not in used and name in schemas:
            used.add(name)
            todo.extend(r.removeprefix(SCHEMAS).split("/")[0] for r in _references(schemas[name]) if r.startswith(SCHEMAS))
    for name in set(schemas) - used:
        del schemas[name]


# -- serving -----------------------------------------------------------------------------------------------


def install(app: FastAPI, *, token_required: bool = True) -> None:
    """Serve the corrected 3.1 contract at the app's /openapi.json and the 3.0 one at /v1/openapi-3.0.json.

    Both are built once, on first request (after every route is added), and are public like /openapi.json.
    `token_required`: whether the service was started with a token (see `contract`)."""
    if getattr(app.state, "openapi_installed", False):
        return
    app.state.openapi_installed = True
    built: dict[str, dict] = {}

    def document(version: Version) -> dict:
        if version not in built:
            built[version] = contract(app, version, token_required=token_required)
        return built[version]

    async def openapi_30(request: Request) -> JSONResponse:
        served = document("3.0")
        root = request.scope.get("root_path", "").rstrip("/")
        if root and app.root_path_in_servers and root not in {s.get("url") for s in served.get("servers", [])}:
            served = {**served, "servers": [{"url": root}, *served.get("servers", [])]}  # as FastAPI does for /openapi.json
        return JSONResponse(served)

    app.openapi = lambda: document("3.1")  # type: ignore[method-assign]
    app.add_route(OPENAPI_30_PATH, openapi_30, methods=["GET"], include_in_schema=False)


def dumps(document: dict) -> str:
    """The document as JSON text (non-ASCII as is), ending with a newline."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# -- OpenAPI 3.1 -> 3.0.3 ----------------------------------------------------------------------------------

# The Schema Object keywords of OpenAPI 3.0 (with $ref and x- extensions); anything else is dropped or rewritten.
SCHEMA_30 = frozenset({
    "$ref", "title", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
    "pattern", "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "required", "enum", "type", "allOf",
    "oneOf", "anyOf", "not", "items", "properties", "additionalProperties", "description", "format", "default", "nullable",
    "discriminator", "readOnly", "writeOnly", "xml", "externalDocs", "example", "deprecated",
})
ANNOTATIONS = frozenset({"title", "description", "default", "example", "deprecated", "readOnly", "writeOnly", "externalDocs", "xml"})
# 3.0 has no null type: a null value is an object-typed nullable enum of null (nullable needs a type beside it).
NULL_30 = {"type": "object", "nullable": True, "enum": [None]}
_SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "contains", "if", "then", "else", "propertyNames", "unevaluatedProperties",
               "unevaluatedItems", "contentSchema")
_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"), (dict, "object"))


def to_openapi_30(document: dict) -> dict:
    """An OpenAPI 3.1 document as OpenAPI 3.0.3 (a new dict): the 3.0 schemas accept whatever the 3.1 ones
    accept, and exactly that wherever 3.0 can say it.

    Exact: `type: [X, "null"]` and `anyOf: [X, {type: null}]` become X with `nullable: true` (a reference or a
    composite gets an explicit null branch); `const` an enum; numeric `exclusiveMinimum`/`Maximum` the boolean
    form; `$defs` component schemas, references rewritten; `if/then/else`, `dependentRequired` and
    `dependentSchemas` equivalent `anyOf`s; a `$ref` with siblings an `allOf`; schema `examples` an `example`.
    Looser, as 3.0 cannot say it: `prefixItems` become `items` of any of them; `patternProperties` constrain
    only what `additionalProperties` constrained; `propertyNames`, `contains`, `contentMediaType` ... are
    dropped. 3.1-only document parts (webhooks, jsonSchemaDialect, info.summary, license.identifier, mutualTLS)
    are dropped too."""
    document = copy.deepcopy(document)
    _hoist_definitions(document)
    original = copy.deepcopy(document)

    def resolve(reference: str) -> Any:
        node: Any = original
        for token in reference.removeprefix("#/").split("/") if reference.startswith("#/") else [None]:
            if not isinstance(node, dict) or token is None:
                return None
            node = node.get(token.replace("~1", "/").replace("~0", "~"))
        return node

    for container, key, _ in list(_schema_slots(document)):
        container[key] = _schema_30(container[key], resolve)
    for name in ("webhooks", "jsonSchemaDialect"):
        document.pop(name, None)
    info = document.setdefault("info", {})
    info.pop("summary", None)
    if isinstance(info.get("license"), dict):
        info["license"].pop("identifier", None)
        if "name" not in info["license"]:
            del info["license"]
    components = document.get("components", {})
    components.pop("pathItems", None)
    schemes = components.get("securitySchemes", {})
    for name in [n for n, s in schemes.items() if s.get("type") == "mutualTLS"]:
        del schemes[name]
    _bare_references(document)
    document.setdefault("paths", {})
    document["openapi"] = "3.0.3"
    return document


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _schema_slots(document: dict) -> Iterator[tuple[Any, Any, str]]:
    """(container, key, JSON pointer) of every top-level Schema Object of the document (not the nested ones)."""
    components = document.get("components", {})
    for name in list(components.get("schemas", {})):
        yield components["schemas"], name, f"#/components/schemas/{_escape(name)}"
    for kind, walk in (("parameters", _parameter_slots), ("headers", _parameter_slots), ("requestBodies", _content_slots),
                       ("responses", _response_slots)):
        for name, value in components.get(kind, {}).items():
            yield from walk(value, f"#/components/{kind}/{_escape(name)}")
    for name, value in components.get("callbacks", {}).items():
        yield from _callback_slots(value, f"#/components/callbacks/{_escape(name)}")
    for name, value in components.get("pathItems", {}).items():
        yield from _path_item_slots(value, f"#/components/pathItems/{_escape(name)}")
    for path, item in document.get("paths", {}).items():
        yield from _path_item_slots(item, f"#/paths/{_escape(path)}")


def _path_item_slots(item: dict, at: str) -> Iterator[tuple[Any, Any, str]]:
    for index, parameter in enumerate(item.get("parameters", [])):
        yield from _parameter_slots(parameter, f"{at}/parameters/{index}")
    for method in METHODS:
        operation = item.get(method)
        if not isinstance(operation, dict):
            continue
        here = f"{at}/{method}"
        for index, parameter in enumerate(operation.get("parameters", [])):
            yield from _parameter_slots(parameter, f"{here}/parameters/{index}")
        if isinstance(operation.get("requestBody"), dict):
            yield from _content_slots(operation["requestBody"], f"{here}/requestBody")
        for status, response in operation.get("responses", {}).items():
            yield from _response_slots(response, f"{here}/responses/{_escape(status)}")
        for name, callback in operation.get("callbacks", {}).items():
            yield from _callback_slots(callback, f"{here}/callbacks/{_escape(name)}")


def _callback_slots(callback: dict, at: str) -> Iterator[tuple[Any, Any, str]]:
    for expression, item in callback.items():
        if isinstance(item, dict) and expression != "$ref":
            yield from _path_item_slots(item, f"{at}/{_escape(expression)}")


def _parameter_slots(parameter: dict, at: str) -> Iterator[tuple[Any, Any, str]]:
    if "schema" in parameter:
        yield parameter, "schema", f"{at}/schema"
    yield from _content_slots(parameter, at)


def _content_slots(holder: dict, at: str) -> Iterator[tuple[Any, Any, str]]:
    for media, content in holder.get("content", {}).items():
        if "schema" in content:
            yield content, "schema", f"{at}/content/{_escape(media)}/schema"
        for name, encoding in content.get("encoding", {}).items():
            for header, value in encoding.get("headers", {}).items():
                yield from _parameter_slots(value, f"{at}/content/{_escape(media)}/encoding/{_escape(name)}/headers/{_escape(header)}")


def _response_slots(response: dict, at: str) -> Iterator[tuple[Any, Any, str]]:
    for name, header in response.get("headers", {}).items():
        yield from _parameter_slots(header, f"{at}/headers/{_escape(name)}")
    yield from _content_slots(response, at)


def _hoist_definitions(document: dict) -> None:
    """Every `$defs` (or `definitions`) entry becomes a component schema; references to it, absolute or relative to
    the top-level schema embedding it (`#/$defs/X`, as pydantic writes them), are rewritten."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    slots = list(_schema_slots(document))
    found: dict[str, tuple[dict, str, str]] = {}  # pointer of a definition -> (its holder, keyword, name)
    for container, key, at in slots:
        for schema, pointer in _subschemas(container[key], at):
            for keyword in ("$defs", "definitions"):
                for name in schema.get(keyword) or {}:
                    found[f"{pointer}/{keyword}/{_escape(name)}"] = (schema, keyword, name)
    if not found:
        return
    chosen: dict[str, str] = {}  # pointer -> component name
    for pointer, (holder, keyword, name) in found.items():
        candidate, number = name, 1
        while candidate in schemas or candidate in chosen.values():
            if schemas.get(candidate) == holder[keyword][name]:
                break
            number += 1
            candidate = f"{name}{number}"
        chosen[pointer] = candidate
    longest_first = sorted(chosen, key=len, reverse=True)

    def target(reference: str, root: str) -> str:
        if re.match(r"#/(\$defs|definitions)/", reference):  # relative to the embedded schema's own root
            reference = root + reference[1:]
        for pointer in longest_first:
            if reference == pointer or reference.startswith(pointer + "/"):
                return SCHEMAS + _escape(chosen[pointer]) + reference[len(pointer):]
        return reference

    for container, key, at in slots:
        for schema, _ in _subschemas(container[key], at):
            if isinstance(schema.get("$ref"), str):
                schema["$ref"] = target(schema["$ref"], at)
    for pointer, (holder, keyword, name) in found.items():
        schemas[chosen[pointer]] = holder[keyword][name]
    for holder, keyword, _ in found.values():
        holder.pop(keyword, None)


def _subschemas(schema: Any, at: str) -> Iterator[tuple[dict, str]]:
    """Every Schema Object within `schema` (itself included) with its JSON pointer."""
    if isinstance(schema, dict):
        yield schema, at
        for child, pointer in _children(schema, at):
            yield from _subschemas(child, pointer)


def _children(schema: dict, at: str) -> Iterator[tuple[Any, str]]:
    """The subschemas directly within `schema`, with their JSON pointers."""
    for key in _SCHEMA_MAPS:
        if isinstance(schema.get(key), dict):
            for name, child in schema[key].items():
                yield child, f"{at}/{key}/{_escape(name)}"
    for key in _SCHEMA_LISTS:
        if isinstance(schema.get(key), list):
            for index, child in enumerate(schema[key]):
                yield child, f"{at}/{key}/{index}"
    for key in _SCHEMA_ONE:
        if key in schema:
            yield schema[key], f"{at}/{key}"


def _is_null(schema: Any) -> bool:
    """A schema that allows null and nothing else: {type: null}, {const: null}, {enum: [null]}."""
    if not isinstance(schema, dict):
        return False
    checks = {k: v for k, v in schema.items() if k not in ANNOTATIONS and k != "examples" and not k.startswith("x-")}
    return checks in ({"type": "null"}, {"type": ["null"]}, {"const": None}, {"enum": [None]})


def _json_type(values: list) -> str | None:
    """The one JSON type of every value, if they share one."""
    types = {next((name for kind, name in _JSON_TYPES if isinstance(v, kind)), None) for v in values}
    return types.pop() if len(types) == 1 else None


def _schema_30(node: Any, resolve: Callable[[str], Any]) -> Any:
    """One Schema Object (and everything in it) as OpenAPI 3.0; `resolve` finds a reference's 3.1 schema.

    Null is taken out of the schema (null branches, the null type, null in an enum), the rest converted, and
    null allowed again as 3.0 says it when the 3.1 schema as a whole allows it."""
    if node is True:
        return {}
    if node is False:
        return {"not": {}}
    if not isinstance(node, dict):
        return node
    schema = dict(node)
    if _is_null(schema):
        return {**NULL_30, **_annotations(schema)}
    stripped = False  # null taken out here: to be allowed again if the schema allowed it
    one_of_null = False  # a null branch taken out of a oneOf: null may now match once where it matched twice
    for key in ("anyOf", "oneOf"):  # null branches, seen before they are converted
        if isinstance(schema.get(key), list) and any(_is_null(branch) for branch in schema[key]):
            schema[key] = [branch for branch in schema[key] if not _is_null(branch)]
            stripped = True
            one_of_null = one_of_null or key == "oneOf"
            if not schema[key]:
                return {**NULL_30, **_annotations(schema)} if _null_ok(node, resolve) else {"not": {}}
    if schema.get("type") == "null" or isinstance(schema.get("type"), list):
        listed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        types = [t for t in listed if t != "null"]
        if not types:  # nothing but null
            return {**NULL_30, **_annotations(schema)} if _null_ok(node, resolve) else {"not": {}}
        stripped = stripped or len(types) < len(listed)
        schema["type"] = types[0] if len(types) == 1 else types
    if isinstance(schema.get("enum"), list) and None in schema["enum"]:
        schema["enum"] = [v for v in schema["enum"] if v is not None]
        stripped = True
    _rewrite_conditionals(schema)
    # the subschemas, converted
    for key in ("properties", "patternProperties"):
        if isinstance(schema.get(key), dict):
            schema[key] = {name: _schema_30(child, resolve) for name, child in schema[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(schema.get(key), list):
            schema[key] = [_schema_30(child, resolve) for child in schema[key]]
    items_closed = schema.get("items") is False
    for key in ("items", "not", "additionalProperties", "unevaluatedProperties"):
        if key in schema and not (key in ("additionalProperties", "unevaluatedProperties") and isinstance(schema[key], bool)):
            schema[key] = _schema_30(schema[key], resolve)
    # keywords 3.0 spells differently
    if "prefixItems" in schema:
        variants = schema.pop("prefixItems") + ([] if items_closed or "items" not in schema else [schema["items"]])
        if items_closed:
            schema.setdefault("maxItems", len(variants))
        unique = [v for i, v in enumerate(variants) if v not in variants[:i]]
        schema["items"] = unique[0] if len(unique) == 1 else {"anyOf": unique}
    if "unevaluatedProperties" in schema:  # the same as additionalProperties where nothing else evaluates properties
        value = schema.pop("unevaluatedProperties")
        if not any(k in schema for k in ("additionalProperties", "patternProperties", "allOf", "anyOf", "oneOf", "$ref")):
            schema["additionalProperties"] = value
    if "patternProperties" in schema:  # other properties: their own schema, or any pattern's
        patterns = list(schema.pop("patternProperties").values())
        extra = schema.get("additionalProperties", True)
        if extra is not True:
            variants = patterns + ([extra] if isinstance(extra, dict) else [])
            schema["additionalProperties"] = variants[0] if len(variants) == 1 else {"anyOf": variants}
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    if isinstance(schema.get("enum"), list):
        if "type" not in schema and _json_type(schema["enum"]):  # the values' one type, for importers that want a type
            schema["type"] = _json_type(schema["enum"])
    if isinstance(schema.get("examples"), list):
        examples = schema.pop("examples")
        if examples and "example" not in schema:
            schema["example"] = examples[0]
    for exclusive, inclusive, stricter in (("exclusiveMinimum", "minimum", max), ("exclusiveMaximum", "maximum", min)):
        bound = schema.get(exclusive)
        if isinstance(bound, (int, float)) and not isinstance(bound, bool):
            del schema[exclusive]
            if inclusive not in schema or stricter(schema[inclusive], bound) == bound:
                schema[inclusive], schema[exclusive] = bound, True
    if schema.get("contentEncoding") == "base64" and "format" not in schema:
        schema["format"] = "byte"
    if isinstance(schema.get("type"), list):  # several types: one branch each
        branches = [{"type": t} for t in schema.pop("type")]
        if "anyOf" in schema:
            schema["allOf"] = [*schema.get("allOf", []), {"anyOf": branches}]
        else:
            schema["anyOf"] = branches
    schema = {k: v for k, v in schema.items() if k in SCHEMA_30 or k.startswith("x-")}
    if stripped and _null_ok(node, resolve):
        schema = _nullable(schema)
    elif one_of_null:
        schema = {"allOf": [schema], "not": NULL_30} if "not" in schema else {**schema, "not": NULL_30}
    if "$ref" in schema and len(schema) > 1:  # 3.0 ignores a reference's siblings
        schema = {"allOf": [{"$ref": schema.pop("$ref")}], **schema}
    return schema


def _null_ok(schema: Any, resolve: Callable[[str], Any], seen: frozenset[str] = frozenset()) -> bool:
    """Whether a 3.1 schema allows null: every keyword that can refuse it (type, enum, const, the applicators,
    a reference) lets it through; the others do not apply to null."""
    if isinstance(schema, bool) or not isinstance(schema, dict):
        return schema is not False
    kind = schema.get("type")
    if kind is not None and "null" not in (kind if isinstance(kind, list) else [kind]):
        return False
    if ("const" in schema and schema["const"] is not None) or ("enum" in schema and None not in schema["enum"]):
        return False
    if not all(_null_ok(s, resolve, seen) for s in schema.get("allOf", [])):
        return False
    if "anyOf" in schema and not any(_null_ok(s, resolve, seen) for s in schema["anyOf"]):
        return False
    if "oneOf" in schema and sum(_null_ok(s, resolve, seen) for s in schema["oneOf"]) != 1:
        return False
    if "not" in schema and _null_ok(schema["not"], resolve, seen):
        return False
    if "if" in schema:
        branch = schema.get("then" if _null_ok(schema["if"], resolve, seen) else "else", True)
        if not _null_ok(branch, resolve, seen):
            return False
    reference = schema.get("$ref")
    if isinstance(reference, str):
        return reference not in seen and _null_ok(resolve(reference), resolve, seen | {reference})
    return True


def _annotations(schema: dict) -> dict:
    return {k: v for k, v in schema.items() if k in ANNOTATIONS or k.startswith("x-")}


def _rewrite_conditionals(schema: dict) -> None:
    """if/then/else, dependentRequired and dependentSchemas as the equivalent anyOf terms of an allOf."""
    terms = []
    if "if" in schema:
        condition = schema.pop("if")
        then, otherwise = schema.pop("then", True), schema.pop("else", True)
        terms.append({"anyOf": [{"allOf": [condition, then]}, {"allOf": [{"not": condition}, otherwise]}]})
    schema.pop("then", None)
    schema.pop("else", None)
    for name, needed in (schema.pop("dependentRequired", None) or {}).items():
        if needed:
            terms.append({"anyOf": [{"not": {"required": [name]}}, {"required": list(needed)}]})
    for name, dependent in (schema.pop("dependentSchemas", None) or {}).items():
        terms.append({"anyOf": [{"not": {"required": [name]}}, dependent]})
    if terms:
        schema["allOf"] = [*schema.get("allOf", []), *terms]


def _nullable(schema: dict) -> dict:
    """`schema` also allowing null, as 3.0 says it: `nullable` beside a type, else an explicit null branch."""
    annotations = _annotations(schema)
    body = {k: v for k, v in schema.items() if k not in annotations}
    for key in ("anyOf", "oneOf"):
        if set(body) == {key} and len(body[key]) == 1:  # what is left of [X, null]: X itself
            branch = body[key][0]
            annotations = {**_annotations(branch), **annotations}
            body = {k: v for k, v in branch.items() if k not in annotations}
    if not body or (body.get("nullable") is True and "type" in body):
        return {**body, **annotations}  # allows null already
    if "type" in body and not any(k in body for k in ("$ref", "allOf", "anyOf", "oneOf", "not")):
        body["nullable"] = True
        if isinstance(body.get("enum"), list) and None not in body["enum"]:
            body["enum"] = [*body["enum"], None]
        return {**body, **annotations}
    for key in ("anyOf", "oneOf"):
        if set(body) == {key}:
            return {key: [*body[key], NULL_30], **annotations}
    return {"anyOf": [body, NULL_30], **annotations}


def _bare_references(document: dict) -> None:
    """3.0 Reference Objects outside schemas have no siblings (3.1 allows summary and description)."""

    def strip(value: Any) -> None:
        if isinstance(value, dict) and isinstance(value.get("$ref"), str):
            for key in [k for k in value if k != "$ref"]:
                del value[key]

    components = document.get("components", {})
    for kind in ("parameters", "headers", "requestBodies", "responses", "examples", "links", "callbacks", "securitySchemes"):
        for value in components.get(kind, {}).values():
            strip(value)
    for _, _, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            strip(parameter)
        strip(operation.get("requestBody"))
        for response in operation.get("responses", {}).values():
            strip(response)
            for header in response.get("headers", {}).values():
                strip(header)
            for content in response.get("content", {}).values():
                for example in content.get("examples", {}).values():
                    strip(example)
        for content in operation.get("requestBody", {}).get("content", {}).values():
            for example in content.get("examples", {}).values():
                strip(example)
