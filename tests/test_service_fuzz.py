"""Fuzz the HTTP API: from its own OpenAPI document (schemathesis), and with generated hostile input.

- Every operation from the OpenAPI document: no 5xx, every answer conforms to it.
- CRM records: every field of each CRM's example record replaced by a value of every other JSON type,
  then random JSON at random fields: 200 or a 422 naming fields, never 500.
- Authorization headers of random bytes, non-ASCII included: 401, or 200 for the token itself.
- Batches of valid deals, deals holding lone surrogates, and garbage: one answer per item, in its place.
- One keep-alive connection to a real server carrying random sequences of requests (valid, malformed,
  oversized, chunked, unauthorised, failing inside): each answered in full, the connection never dropped.

DEALCOACH_FUZZ_EXAMPLES sets the generated requests per operation (default 25; a long run: 500); the
hypothesis tests scale with it too.

Not checked: that every schema-valid deal is accepted — stage names come from
the playbook and cross-field rules (dates, committee members) are not
expressible in JSON Schema, so such deals are rightly answered 422.
"""

from __future__ import annotations

import copy
import http.client
import json
import os
import tempfile
from collections.abc import Iterator

import pytest

schemathesis = pytest.importorskip("schemathesis")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import checks  # noqa: E402

from dealcoach.engine.coach import Coach  # noqa: E402
from dealcoach.service.app import Settings, create_app  # noqa: E402

from helpers import EXAMPLE_EN, EXAMPLES, HERE, read_yaml  # noqa: E402
from live_server import exchange, live_server  # noqa: E402

EXAMPLES_PER_TEST = int(os.environ.get("DEALCOACH_FUZZ_EXAMPLES", "25"))
pytestmark = pytest.mark.exhaustive  # every test here generates its inputs

# The CRM webhooks answer 503 without a CRM to read from: tests/test_webhooks.py drives them against a local one.
# The app keeps a decision log (a SQLite file), so the log's endpoints are fuzzed too, and every decision is written.
_LOG = tempfile.mkdtemp(prefix="dealcoach-fuzz-log-")
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(Settings(store=f"{_LOG}/decisions.sqlite3"))).exclude(
    path_regex="^/v1/webhooks/")
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.unsupported_method,
]


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_TEST, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_and_never_fails(case) -> None:
    case.call_and_validate(checks=CHECKS)


# -- generated hostile input -------------------------------------------------------------------------

TOKEN = "fuzz-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DEAL = read_yaml(EXAMPLE_EN)
CRM_RECORDS = {
    kind: json.loads((HERE / "crm" / f"{name}.json").read_text(encoding="utf-8"))
    for kind, name in (("salesforce", "salesforce-opportunity"), ("hubspot", "hubspot-deal"), ("odoo", "odoo-lead"))
}
HOSTILE_RUNS = max(EXAMPLES_PER_TEST * 8, 100)  # examples per hypothesis test below

# One value of each JSON type; a field is replaced by each one of another type than its own.
SAMPLES = {"null": None, "bool": True, "int": 7, "float": 2.5, "text": "x", "list": ["x"], "object": {"x": "y"}}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | st.characters(categories=["Cs"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def kind_of(value) -> str:
    return next(name for name, sample in SAMPLES.items() if type(sample) is type(value)) if value is not None else "null"


def field_paths(value, prefix: tuple = ()) -> Iterator[tuple]:
    """Every key and index path in a JSON document, containers included (not the root)."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield (*prefix, key)
        yield from field_paths(child, (*prefix, key))


def replaced(document, path: tuple, value):
    changed = copy.deepcopy(document)
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


@pytest.fixture(scope="module")
def guarded() -> TestClient:
    return TestClient(create_app(Settings(token=TOKEN, max_body_bytes=200_000, max_batch=20)), raise_server_exceptions=False)


def assert_answered(answer) -> None:
    """200, or a 422 problem that names at least one field; never a server error."""
    assert answer.status_code in (200, 422), answer.text[:500]
    if answer.status_code == 422:
        assert answer.headers["content-type"] == "application/problem+json" and answer.json()["errors"], answer.text[:500]


def _value_at(document, path: tuple):
    for key in path:
        document = document[key]
    return document


WRONG_TYPED_RECORDS = [
    (kind, path, other)
    for kind, record in CRM_RECORDS.items()
    for path in field_paths(record)
    for other in SAMPLES
    if other != kind_of(_value_at(record, path))
]


def test_every_crm_field_of_every_wrong_type_is_a_200_or_a_422(guarded) -> None:
    """Each field of each CRM's example record, replaced in turn by a value of each other JSON type."""
    failures = []
    for kind, path, other in WRONG_TYPED_RECORDS:
        record = replaced(CRM_RECORDS[kind], path, SAMPLES[other])
        answer = guarded.post(f"/v1/crm/{kind}/review", params={"as_of": "2026-11-20"}, json=record, headers=AUTH)
        if answer.status_code not in (200, 422) or (answer.status_code == 422 and not answer.json()["errors"]):
            failures.append((kind, path, other, answer.status_code, answer.text[:200]))
    assert len(WRONG_TYPED_RECORDS) > 1000 and not failures, failures[:5]


@given(
    kind=st.sampled_from(sorted(CRM_RECORDS)),
    data=st.data(),
)
@settings(max_examples=HOSTILE_RUNS, deadline=None, suppress_health_check=list(HealthCheck))
def test_random_json_at_random_crm_fields_is_a_200_or_a_422(guarded, kind, data) -> None:
    record = CRM_RECORDS[kind]
    paths = list(field_paths(record))
    changes = data.draw(st.lists(st.tuples(st.sampled_from(paths), json_values), min_size=1, max_size=3))
    for path, value in changes:
        try:
            record = replaced(record, path, value)
        except (KeyError, IndexError, TypeError):  # an earlier change removed the path
            continue
    body = json.dumps(record)  # NaN and Infinity included, as a lenient client would send them
    answer = guarded.post(f"/v1/crm/{kind}/review?as_of=2026-11-20", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert_answered(answer)


CUSTOM_FIELDS = {  # deal or contact field <- Salesforce field, as a company's mapping would add them
    "fields": {"buying_step": "Buying_Step__c", "milestones": "Milestones__c", "customer.state_owned": "Account.State_Owned__c"},
    "contact_fields": {"roles": "Contact.Roles__c", "power": "Contact.Power__c", "last_contact": "Contact.LastActivityDate"},
}


@pytest.fixture(scope="module")
def with_custom_fields(tmp_path_factory) -> TestClient:
    import yaml

    from dealcoach.crm import load_mapping

    directory = tmp_path_factory.mktemp("mappings")
    mapping = load_mapping("salesforce").model_dump() | CUSTOM_FIELDS
    (directory / "salesforce.yaml").write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    return TestClient(create_app(Settings(mapping_dir=str(directory))), raise_server_exceptions=False)


@given(values=st.lists(json_values, min_size=4, max_size=4))
@settings(max_examples=HOSTILE_RUNS // 2, deadline=None, suppress_health_check=list(HealthCheck))
def test_random_json_in_mapped_custom_fields_is_a_200_or_a_422(with_custom_fields, values) -> None:
    record = copy.deepcopy(CRM_RECORDS["salesforce"])
    record["Buying_Step__c"], record["Milestones__c"], record["Account"]["State_Owned__c"], contact_value = values
    for role in record["OpportunityContactRoles"]["records"]:
        role["Contact"].update(Roles__c=contact_value, Power__c=contact_value, LastActivityDate=contact_value)
    answer = with_custom_fields.post(
        "/v1/crm/salesforce/review?as_of=2026-11-20", content=json.dumps(record), headers={"Content-Type": "application/json"}
    )
    assert_answered(answer)


header_bytes = st.binary(max_size=40).map(lambda b: bytes(c for c in b if c == 9 or 32 <= c != 127))


@given(value=st.one_of(
    header_bytes,
    header_bytes.map(lambda b: b"Bearer " + b),
    header_bytes.map(lambda b: b"bearer " + TOKEN.encode() + b),
    st.text(max_size=20).map(lambda t: ("Bearer " + t).encode("utf-8")),
    st.just(("Bearer " + TOKEN).encode()),
))
@settings(max_examples=HOSTILE_RUNS, deadline=None, suppress_health_check=list(HealthCheck))
def test_random_authorization_headers_are_a_401_or_the_token(guarded, value) -> None:
    answer = guarded.get("/v1/rules/DC406", headers=[(b"authorization", value)])
    scheme, _, given_token = value.partition(b" ")
    expected = 200 if scheme.lower() == b"bearer" and given_token.strip(b" \t") == TOKEN.encode() else 401
    assert answer.status_code == expected, (value, answer.text[:200])
    if expected == 401:
        assert answer.headers["content-type"] == "application/problem+json" and answer.headers["www-authenticate"] == "Bearer"


def _string_paths(document) -> list[tuple]:
    return [path for path in field_paths(document) if isinstance(_value_at(document, path), str)]


VALID_DEALS = [read_yaml(path) for path in EXAMPLES]
batch_items = st.one_of(
    st.sampled_from(range(len(VALID_DEALS))).map(lambda i: ("valid", VALID_DEALS[i])),
    st.tuples(st.sampled_from(_string_paths(DEAL)), st.sampled_from(["\ud800", "a\udfffb", "\udc80\ud800"])).map(
        lambda change: ("surrogate", replaced(DEAL, change[0], change[1]))
    ),
    json_values.filter(lambda v: not isinstance(v, dict)).map(lambda v: ("garbage", v)),
    st.tuples(st.sampled_from(list(field_paths(DEAL))), json_values).map(lambda change: ("any", replaced(DEAL, *change))),
)


@given(items=st.lists(batch_items, min_size=1, max_size=6))
@settings(max_examples=HOSTILE_RUNS, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_batch_item_is_answered_in_its_place(guarded, items) -> None:
    body = json.dumps({"deals": [document for _, document in items]})  # lone surrogates travel as \ud800 escapes
    answer = guarded.post("/v1/review/batch", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text[:300]
    results = json.loads(answer.content.decode("utf-8"))["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    for (kind, _), result in zip(items, results, strict=True):
        if kind == "valid":
            assert result["ok"] and result["report"]
        elif kind in ("surrogate", "garbage"):
            assert not result["ok"] and result["errors"], result
        assert result["ok"] or all("unexpected error" not in e["message"] for e in result["errors"]), result


# -- one keep-alive connection, many kinds of request ---------------------------------------------------

DEAL_JSON = json.dumps(DEAL)
WITH_AUTH = {**AUTH, "Content-Type": "application/json"}
BODY_LIMIT = 50_000


def _chunked(data: bytes, size: int = 997) -> Iterator[bytes]:
    return (data[i:i + size] for i in range(0, len(data), size))


REQUESTS = {  # kind -> (method, path, body, headers, expected status)
    "valid": ("POST", "/v1/review", DEAL_JSON, WITH_AUTH, 200),
    "valid chunked": ("POST", "/v1/review", lambda: _chunked(DEAL_JSON.encode()), WITH_AUTH, 200),
    "malformed JSON": ("POST", "/v1/review", '{"id": ', WITH_AUTH, 400),
    "invalid deal": ("POST", "/v1/review", json.dumps(dict(DEAL, stage="closing")), WITH_AUTH, 422),
    "wrong-typed CRM record": ("POST", "/v1/crm/hubspot/review?as_of=2026-11-20", '{"deal": "x"}', WITH_AUTH, 422),
    "bad parameter": ("POST", "/v1/review?lang=fr", DEAL_JSON, WITH_AUTH, 422),
    "oversized": ("POST", "/v1/review", " " * (BODY_LIMIT + 1), WITH_AUTH, 413),
    "oversized chunked": ("POST", "/v1/review", lambda: _chunked(b" " * (BODY_LIMIT * 3), 8192), WITH_AUTH, 413),
    "no token": ("POST", "/v1/review", DEAL_JSON, {"Content-Type": "application/json"}, 401),
    "non-ASCII token": ("POST", "/v1/review", DEAL_JSON, {"Content-Type": "application/json", "Authorization": "Bearer \xc3\xa9"}, 401),
    "unknown path": ("GET", "/v1/nothing", None, AUTH, 404),
    "wrong method": ("DELETE", "/v1/review", None, AUTH, 405),
    "internal error": ("POST", "/v1/review", json.dumps(dict(DEAL, id="fails-inside")), WITH_AUTH, 500),
    "surrogate batch": ("POST", "/v1/review/batch", json.dumps({"deals": [{"id": "\ud800"}, DEAL]}), WITH_AUTH, 200),
    "health": ("GET", "/v1/health", None, {}, 200),
}


@pytest.fixture(scope="module")
def one_server() -> Iterator[int]:
    """A real server whose review of the deal "fails-inside" raises, as a bug would."""
    real_review = Coach.review

    def review(self, deal, **kwargs):
        if getattr(deal, "id", None) == "fails-inside":
            raise RuntimeError("a bug")
        return real_review(self, deal, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Coach, "review", review)
        with live_server(create_app(Settings(token=TOKEN, max_body_bytes=BODY_LIMIT))) as port:
            yield port


@given(kinds=st.lists(st.sampled_from(sorted(REQUESTS)), min_size=1, max_size=12))
@settings(max_examples=max(EXAMPLES_PER_TEST * 3, 60), deadline=None, suppress_health_check=list(HealthCheck))
def test_one_keep_alive_connection_answers_every_request(one_server, kinds) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", one_server, timeout=30)
    first_socket = None
    try:
        for kind in [*kinds, "valid"]:
            method, path, body, headers, expected = REQUESTS[kind]
            status, answer_headers, answer = exchange(connection, method, path, body() if callable(body) else body, headers)
            assert status == expected, (kind, status, answer[:200])
            assert answer_headers.get("connection") != "close", kind
            assert int(answer_headers["content-length"]) == len(answer), kind
            if status >= 400:
                assert answer_headers["content-type"] == "application/problem+json" and json.loads(answer)["title"], kind
            first_socket = first_socket or connection.sock
        assert connection.sock is first_socket  # never re-opened
    finally:
        connection.close()
