"""The bad-input corpus (tests/bad_inputs/): exact errors and exit codes on the CLI, statuses over HTTP."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dealcoach.cli import cli
from dealcoach.engine.errors import DealInputError
from dealcoach.engine.loading import decode, parse_text
from dealcoach.service.app import Settings, create_app

from helpers import HERE

CORPUS = HERE / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))


def test_every_file_has_a_case() -> None:
    assert {p.name for p in CORPUS.iterdir() if p.name != "cases.yaml"} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli(name: str) -> None:
    case = CASES[name]
    result = CliRunner().invoke(cli, ["review", str(CORPUS / name)])
    assert result.exit_code == case["exit"], result.output
    assert "Traceback" not in result.output
    if case["exit"]:
        assert result.output.startswith(f"Error: {CORPUS / name}: invalid deal (1 problem)")
        assert case["error"] in result.output


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings()), raise_server_exceptions=False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_http(client, name: str) -> None:
    case = CASES[name]
    raw = (CORPUS / name).read_bytes()
    body = raw
    if name.endswith(".yaml"):
        try:
            body = json.dumps(parse_text(decode(raw, name), name), ensure_ascii=False).encode()
        except DealInputError:
            body = raw
    answer = client.post("/v1/review", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == case["http"]
    assert "Traceback" not in answer.text
    if answer.status_code >= 400:
        assert answer.headers["content-type"].startswith("application/problem+json")
    if "path" in case:
        assert answer.json()["errors"][0]["path"] == case["path"]
