"""Fuzz the HTTP API from its own OpenAPI document (schemathesis): no 5xx, and every answer conforms to it.

DEALCOACH_FUZZ_EXAMPLES sets the generated requests per operation (default 25; a long run: 500).

Not checked: that every schema-valid deal is accepted — stage names come from
the playbook and cross-field rules (dates, committee members) are not
expressible in JSON Schema, so such deals are rightly answered 422.
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis import checks  # noqa: E402

from dealcoach.service.app import Settings, create_app  # noqa: E402

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(Settings()))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.unsupported_method,
]


@schema.parametrize()
@settings(max_examples=int(os.environ.get("DEALCOACH_FUZZ_EXAMPLES", "25")), deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_and_never_fails(case) -> None:
    case.call_and_validate(checks=CHECKS)
