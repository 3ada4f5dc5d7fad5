"""Operating the service: settings from options, environment and config file; the start-up line; request ids and
JSON log lines; Prometheus metrics; readiness; docs served without a network. Against the real app (TestClient)
and, for the multi-worker parts, a real `dealcoach serve`."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from dealcoach.cli import cli
from dealcoach.service.app import Settings, create_app
from dealcoach.service.logs import JsonFormatter, TextFormatter, logging_config
from dealcoach.service.settings import CONFIG_VARIABLE, SPECS, TOKEN_VARIABLE, SettingError, TokenError, resolve

from helpers import EXAMPLE_EN, EXAMPLE_ZH, HERE, free_port, read_yaml, wait_until_answering

DEAL = read_yaml(EXAMPLE_EN)
TOKEN = "Xk3-rT9_vQ2.pL8~mZ5+wN7/"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SERVE_VARIABLES = [s.variable for s in SPECS if s.variable] + [TOKEN_VARIABLE, CONFIG_VARIABLE, "PROMETHEUS_MULTIPROC_DIR"]


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(max_batch=5)), raise_server_exceptions=False)


@pytest.fixture
def lines():
    """The JSON lines the dealcoach loggers write while the test runs (the service's own formatter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("dealcoach")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(text) for text in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def metric_samples(text: str) -> dict[tuple, float]:
    """(sample name, sorted labels) -> value, parsed with prometheus-client's own parser."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in text_string_to_metric_families(text) for s in family.samples}


def config_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "dealcoach.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- settings: one precedence order -------------------------------------------------------------------------


def test_an_option_outranks_the_variable_which_outranks_the_file_which_outranks_the_default(tmp_path) -> None:
    file = config_file(tmp_path, "max_batch: 30\ntimeout_seconds: 2.5\nlog_format: text\n")
    env = {CONFIG_VARIABLE: file, "DEALCOACH_MAX_BATCH": "20", "DEALCOACH_TIMEOUT_SECONDS": "4"}
    chosen = resolve({"max_batch": 10}, env)
    assert (chosen.settings.max_batch, chosen.settings.timeout_seconds, chosen.settings.log_format) == (10, 4.0, "text")
    assert chosen.settings.work_queue == Settings().work_queue  # set nowhere: the default
    assert chosen.sources["max_batch"] == "option --max-batch" and chosen.sources["timeout_seconds"] == "variable DEALCOACH_TIMEOUT_SECONDS"
    assert chosen.sources["log_format"] == f"file {file}" and chosen.sources["work_queue"] == "default"
    assert resolve({}, env).settings.max_batch == 20
    assert resolve({}, {CONFIG_VARIABLE: file}).settings.max_batch == 30
    assert resolve({"config": file}, {}).settings.max_batch == 30


def test_a_config_file_s_paths_are_relative_to_its_folder(tmp_path) -> None:
    (tmp_path / "maps").mkdir()
    (tmp_path / "token").write_text(TOKEN + "\n", encoding="utf-8")
    file = config_file(tmp_path, "mappings: maps\ntoken_file: token\nhost: 0.0.0.0\nport: 9000\nworkers: 3\n")
    chosen = resolve({"config": file}, {})
    assert chosen.settings.mapping_dir == str(tmp_path / "maps") and chosen.settings.token == TOKEN
    assert (chosen.host, chosen.port, chosen.workers) == ("0.0.0.0", 9000, 3)
    assert resolve({"config": file}, {TOKEN_VARIABLE: "another-token-of-enough-length"}).settings.token == "another-token-of-enough-length"


def test_what_serve_exports_gives_every_worker_the_same_settings(tmp_path) -> None:
    (tmp_path / "maps").mkdir()
    options = {"max_body_bytes": 5000, "max_batch": 7, "timeout_seconds": 3.5, "work_threads": 2, "work_queue": 9, "log_format": "text",
               "access_log": False, "metrics": False, "public_metrics": True, "mappings": str(tmp_path / "maps"),
               "playbook": str(HERE.parent / "examples" / "company-playbook"), "crm_config": str(EXAMPLE_ZH),
               "public_url": "https://dealcoach.example.com", "store": str(tmp_path / "decisions.sqlite3")}
    chosen = resolve(options, {TOKEN_VARIABLE: TOKEN, "DEALCOACH_WARM_UP_DEAL": str(EXAMPLE_ZH), "DEALCOACH_WEBHOOK_TOKEN": TOKEN[::-1]})
    assert all(getattr(chosen.settings, f) != getattr(Settings(), f) for f in Settings.__dataclass_fields__)
    assert resolve({}, chosen.environment()).settings == chosen.settings


@pytest.mark.parametrize(
    ("options", "env", "file", "message"),
    [
        ({}, {"DEALCOACH_MAX_BATCH": "lots"}, None, "DEALCOACH_MAX_BATCH: 'lots' is not a whole number; allowed: a whole number from 1 to 10000"),
        ({}, {"DEALCOACH_TIMEOUT_SECONDS": "0"}, None, "DEALCOACH_TIMEOUT_SECONDS: 0.0 is out of range; allowed: a number of seconds from 0.1"),
        ({}, {"DEALCOACH_ACCESS_LOG": "maybe"}, None, "DEALCOACH_ACCESS_LOG: 'maybe' is not true or false; allowed: true or false"),
        ({}, {"DEALCOACH_LOG_FORMAT": "xml"}, None, "DEALCOACH_LOG_FORMAT: 'xml' is not allowed; allowed: json or text"),
        ({}, {"DEALCOACH_PLAYBOOK": "/no/such/dir"}, None, "DEALCOACH_PLAYBOOK: '/no/such/dir' is not an existing directory"),
        ({}, {}, "max_batch: 0\n", "dealcoach.yaml: max_batch: 0 is out of range; allowed: a whole number from 1 to 10000"),
        ({}, {}, "work_threads: true\n", "dealcoach.yaml: work_threads: True is not a whole number"),
        ({}, {}, "port: '80a'\n", "dealcoach.yaml: port: '80a' is not a whole number; allowed: a whole number from 1 to 65535"),
        ({}, {}, "max_batches: 5\n", "dealcoach.yaml: max_batches: not a setting; allowed keys: host, port,"),
        ({}, {}, "token: abc\n", "token: not a setting; the token itself belongs in the token file or DEALCOACH_API_TOKEN"),
        ({}, {}, "- max_batch\n", "expected a mapping of settings (key: value), got list"),
        ({}, {}, "max_batch: [1\n", "dealcoach.yaml: not a valid YAML settings file"),
        ({}, {}, "max_batch: 1\nmax_batch: 2\n", "dealcoach.yaml: line 2: 'max_batch' is set twice"),
        ({}, {}, "max_batch: &a 1\nwork_queue: *a\n", "not a valid YAML settings file: YAML alias at line 2"),
    ],
)
def test_a_bad_setting_names_its_source_what_is_wrong_and_what_is_allowed(tmp_path, options, env, file, message) -> None:
    if file is not None:
        options = {**options, "config": config_file(tmp_path, file)}
    with pytest.raises(SettingError) as raised:
        resolve(options, env)
    assert message in str(raised.value)


def test_a_token_file_named_in_the_config_file_is_checked_like_any_token_file(tmp_path) -> None:
    (tmp_path / "token").write_text("short\n", encoding="utf-8")
    with pytest.raises(TokenError, match=r"token file .*token \(.*dealcoach.yaml: token_file\): the token has 5 characters"):
        resolve({"config": config_file(tmp_path, "token_file: token\n")}, {})


# -- dealcoach serve ------------------------------------------------------------------------------------------


@pytest.fixture
def serve_command(monkeypatch):
    """`dealcoach serve` that stops where it would start uvicorn; yields the keyword arguments it would pass."""
    import uvicorn

    for key in SERVE_VARIABLES:
        monkeypatch.setenv(key, "placeholder")  # so that whatever serve sets is undone after the test
        monkeypatch.delenv(key)
    started: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append(kwargs))
    return started


def test_serve_honours_dealcoach_max_batch_rather_than_its_own_default(serve_command, monkeypatch) -> None:
    monkeypatch.setenv("DEALCOACH_MAX_BATCH", "7")
    result = CliRunner().invoke(cli, ["serve", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert os.environ["DEALCOACH_MAX_BATCH"] == "7" and Settings.from_env().max_batch == 7


def test_serve_takes_its_settings_from_a_config_file_and_its_options_over_it(serve_command, tmp_path) -> None:
    file = config_file(tmp_path, "port: 9001\nmax_batch: 12\nwork_threads: 2\nlog_format: text\naccess_log: false\n")
    result = CliRunner().invoke(cli, ["serve", "--config", file, "--workers", "1", "--max-batch", "13"])
    assert result.exit_code == 0, result.output
    assert serve_command[0]["port"] == 9001 and serve_command[0]["workers"] == 1
    settings = Settings.from_env()
    assert (settings.max_batch, settings.work_threads, settings.log_format, settings.access_log) == (13, 2, "text", False)
    formatter = serve_command[0]["log_config"]["formatters"]["dealcoach"]["()"]
    assert formatter.endswith("TextFormatter")


def test_serve_prints_one_start_up_line(serve_command, tmp_path) -> None:
    file = config_file(tmp_path, "max_batch: 12\n")
    result = CliRunner().invoke(cli, ["serve", "--config", file, "--port", "8123", "--workers", "1"], env={"DEALCOACH_TIMEOUT_SECONDS": "5"})
    assert result.exit_code == 0, result.output
    [line] = result.stderr.splitlines()
    started = json.loads(line)
    version = TestClient(create_app(Settings())).get("/v1/health").json()["ruleset_version"]
    assert started["event"] == "starting" and started["address"] == "http://127.0.0.1:8123" and started["workers"] == 1
    assert started["ruleset_version"] == version and started["auth"] == "off"
    assert started["config"] == f"file {file}; environment DEALCOACH_TIMEOUT_SECONDS; options --port --workers"
    assert "http://127.0.0.1:8123" in started["message"] and version in started["message"] and "auth off" in started["message"]


def test_serve_refuses_a_bad_setting_with_a_usage_error_naming_it(serve_command, tmp_path) -> None:
    file = config_file(tmp_path, "max_batch: -1\n")
    result = CliRunner().invoke(cli, ["serve", "--config", file])
    assert result.exit_code == 2 and not serve_command
    assert f"{file}: max_batch: -1 is out of range; allowed: a whole number from 1 to 10000" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["serve"], env={"DEALCOACH_PORT": "http"})
    assert result.exit_code == 2 and "DEALCOACH_PORT: 'http' is not a whole number" in result.output


def test_serve_makes_a_metrics_folder_for_several_workers_and_removes_it(serve_command) -> None:
    result = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    folder = re.search(r"workers' files in (\S+)", result.stderr).group(1).rstrip('",')
    assert not Path(folder).exists() and "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    assert CliRunner().invoke(cli, ["serve", "--workers", "2"], env={"PROMETHEUS_MULTIPROC_DIR": "/no/such/dir"}).exit_code == 2


# -- request ids and log lines ------------------------------------------------------------------------------------


def test_every_answer_carries_the_callers_request_id_or_a_new_one(client) -> None:
    assert client.post("/v1/review", json=DEAL, headers={"X-Request-ID": "order-42/a"}).headers["x-request-id"] == "order-42/a"
    for unusable in ("two words", "x" * 129, ""):
        given = client.get("/v1/health", headers={"X-Request-ID": unusable}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", given)
    non_ascii = client.get("/v1/health", headers=[(b"x-request-id", "é".encode("latin-1"))]).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", non_ascii)
    assert client.get("/v1/health").headers["x-request-id"] != client.get("/v1/health").headers["x-request-id"]


def test_errors_carry_the_request_id_too(lines) -> None:
    app = create_app(Settings(max_body_bytes=1_000))

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)  # an endpoint that fails: what ContainErrors is for
    client = TestClient(app, raise_server_exceptions=False)
    too_large = client.post("/v1/review", content=b"x" * 2_000, headers={"X-Request-ID": "big-1", "content-type": "application/json"})
    assert too_large.status_code == 413 and too_large.headers["x-request-id"] == "big-1"
    failed = client.get("/broken", headers={"X-Request-ID": "bug-1"})
    assert failed.status_code == 500 and failed.headers["x-request-id"] == "bug-1" and "a bug" not in failed.text
    error = next(line for line in lines() if line["level"] == "error")
    assert error["request_id"] == "bug-1" and "RuntimeError: a bug" in error["error"]
    assert [(line["request_id"], line["status"]) for line in lines() if line["event"] == "request"] == [("big-1", 413), ("bug-1", 500)]


def test_an_access_line_per_request_with_its_decision_id(lines) -> None:
    client = TestClient(create_app(Settings()), raise_server_exceptions=False)
    review = client.post("/v1/review?lang=en", json=DEAL, headers={"X-Request-ID": "r-1"})
    gate = client.post("/v1/crm/salesforce/gate", params={"as_of": "2026-11-20", "to": "bidding"},
                       json=json.loads((HERE / "crm" / "salesforce-opportunity.json").read_text(encoding="utf-8")))
    health = client.get("/v1/health")
    first, second, third = [line for line in lines() if line["event"] == "request"]
    assert first["decision_id"] == review.json()["decision_id"] and first["request_id"] == "r-1"
    assert {k: first[k] for k in ("level", "method", "path", "route", "status", "client")} == {
        "level": "info", "method": "POST", "path": "/v1/review", "route": "/v1/review", "status": 200, "client": "testclient"}
    assert first["duration_ms"] > 0 and first["time"].endswith("Z") and first["message"] == "POST /v1/review 200"
    assert second["decision_id"] == gate.json()["decision_id"] and second["path"] == "/v1/crm/salesforce/gate"
    assert second["route"] == "/v1/crm/{crm}/gate"
    assert "decision_id" not in third and third["request_id"] == health.headers["x-request-id"]


def test_a_batch_s_decision_id_is_logged_and_the_access_log_can_be_switched_off(lines) -> None:
    client = TestClient(create_app(Settings()), raise_server_exceptions=False)
    batch = client.post("/v1/review/batch", json={"deals": [DEAL, {"id": "bad"}]})
    assert [line["decision_id"] for line in lines() if line["event"] == "request"] == [batch.json()["decision_id"]]
    quiet = TestClient(create_app(Settings(access_log=False)), raise_server_exceptions=False)
    quiet.post("/v1/review", json=DEAL)
    assert len([line for line in lines() if line["event"] == "request"]) == 1


def test_a_text_log_line_is_one_line_with_its_fields() -> None:
    record = logging.LogRecord("dealcoach.access", logging.INFO, __file__, 0, "POST %s 200", ("/v1/review\nforged",), None)
    record.__dict__.update(event="request", method="POST", path="/v1/review\nforged", status=200, duration_ms=3.2)
    text = TextFormatter().format(record)
    assert "\n" not in text and "INFO" in text and "status=200" in text and "path=/v1/review\\nforged" in text
    assert json.loads(JsonFormatter().format(record))["path"] == "/v1/review\nforged"
    assert logging_config("text")["formatters"]["dealcoach"]["()"] == "dealcoach.service.logs.TextFormatter"


# -- metrics -------------------------------------------------------------------------------------------------------------


def test_requests_are_counted_by_route_template_never_by_raw_path() -> None:
    client = TestClient(create_app(Settings()), raise_server_exceptions=False)
    opportunity = json.loads((HERE / "crm" / "salesforce-opportunity.json").read_text(encoding="utf-8"))
    client.post("/v1/crm/salesforce/review", params={"as_of": "2026-11-20"}, json=opportunity)
    client.post("/v1/crm/pipedrive/review", params={"as_of": "2026-11-20"}, json={})
    client.get("/v1/rules/DC406")
    client.get("/no/such/path/123")
    client.request("BREW", "/v1/health")
    samples = metric_samples(client.get("/metrics").text)
    requests = {labels: value for (name, labels), value in samples.items() if name == "dealcoach_http_requests_total"}
    templates = set(client.app.openapi()["paths"]) | {"/metrics", "unmatched"}
    assert {dict(labels)["route"] for (name, labels) in samples if "route" in dict(labels)} <= templates
    assert requests[(("method", "POST"), ("route", "/v1/crm/{crm}/review"), ("status", "200"))] == 1
    assert requests[(("method", "POST"), ("route", "/v1/crm/{crm}/review"), ("status", "404"))] == 1
    assert requests[(("method", "GET"), ("route", "/v1/rules/{code}"), ("status", "200"))] == 1
    assert requests[(("method", "GET"), ("route", "unmatched"), ("status", "404"))] == 1
    assert requests[(("method", "other"), ("route", "/v1/health"), ("status", "405"))] == 1
    assert ("dealcoach_http_request_duration_seconds_count", (("route", "/v1/crm/{crm}/review"),)) in samples


def test_findings_are_counted_by_rule_code_and_gates_by_outcome() -> None:
    client = TestClient(create_app(Settings()), raise_server_exceptions=False)
    report = client.post("/v1/review", json=DEAL).json()["report"]
    assert client.post("/v1/gate", params={"to": DEAL["stage"]}, json=DEAL).json()["gate"]["allowed"] is True
    blocked = client.post("/v1/gate", params={"to": "negotiation"}, json=DEAL).json()["gate"]
    assert blocked["allowed"] is False
    samples = metric_samples(client.get("/metrics").text)
    findings = {dict(labels)["code"]: value for (name, labels), value in samples.items() if name == "dealcoach_findings_total"}
    expected: dict[str, int] = {}
    for codes in ([f["code"] for f in report["findings"]] * 2, [f["code"] for f in blocked["report"]["findings"]]):
        for code in codes:
            expected[code] = expected.get(code, 0) + 1
    assert findings == expected  # the review, the allowed gate's report (the same deal) and the blocked gate's
    assert samples[("dealcoach_gate_decisions_total", (("outcome", "allowed"),))] == 1
    assert samples[("dealcoach_gate_decisions_total", (("outcome", "blocked"),))] == 1


def test_metrics_need_the_token_unless_public_and_can_be_switched_off() -> None:
    guarded = TestClient(create_app(Settings(token=TOKEN)), raise_server_exceptions=False)
    assert guarded.get("/metrics").status_code == 401
    answer = guarded.get("/metrics", headers=AUTH)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain; version=")
    assert TestClient(create_app(Settings(token=TOKEN, public_metrics=True))).get("/metrics").status_code == 200
    off = TestClient(create_app(Settings(metrics=False)), raise_server_exceptions=False)
    off.post("/v1/review", json=DEAL)
    assert off.get("/metrics").status_code == 404


# -- readiness ---------------------------------------------------------------------------------------------------------------


def test_ready_after_the_warm_up_evaluation_without_a_token() -> None:
    client = TestClient(create_app(Settings(token=TOKEN)), raise_server_exceptions=False)
    answer = client.get("/v1/ready")
    assert answer.status_code == 200 and answer.json()["status"] == "ready"
    assert answer.json()["ruleset_version"] == client.get("/v1/health").json()["ruleset_version"]


def test_not_ready_when_the_warm_up_evaluation_fails(tmp_path, lines) -> None:
    broken = tmp_path / "deal.yaml"
    broken.write_text("id: x\nstage: nowhere\n", encoding="utf-8")
    client = TestClient(create_app(Settings(warm_up_deal=str(broken))), raise_server_exceptions=False)
    answer = client.get("/v1/ready")
    assert answer.status_code == 503 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["title"] == "Not ready" and str(broken) in answer.json()["detail"]
    assert client.get("/v1/health").status_code == 200  # alive, not ready
    assert any(line["event"] == "warm_up_failed" and line["level"] == "error" for line in lines())


# -- error titles ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["0", "20261120", "2026-1-2"])
def test_a_query_date_must_be_written_as_one(client, written) -> None:
    answer = client.post("/v1/crm/salesforce/review/batch", params={"as_of": written}, json={})
    assert answer.status_code == 422 and answer.json()["title"] == "Invalid parameter"
    assert answer.json()["errors"] == [{"path": "query.as_of", "message": "expected a date written YYYY-MM-DD"}]


# -- docs without a network ------------------------------------------------------------------------------------------------


def test_docs_reference_no_external_url_and_every_asset_is_served() -> None:
    client = TestClient(create_app(Settings(token=TOKEN)), raise_server_exceptions=False)
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert not re.search(r"https?://", page.text), re.findall(r"https?://\S+", page.text)
    assets = re.findall(r'(?:href|src)="([^"]+)"', page.text) + re.findall(r"url: '([^']+)'", page.text)
    assert len(assets) >= 4  # stylesheet, icon, script, the OpenAPI document
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200 and len(answer.content) > 100, asset
    assert client.get("/docs/assets/swagger-ui-bundle.js").headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert client.get("/docs/assets/%2e%2e/core.py").status_code == 404  # nothing outside the assets folder


# -- a real `dealcoach serve` with two workers -------------------------------------------------------------------------------


@pytest.mark.slow
def test_serve_with_two_workers_logs_json_lines_and_adds_up_every_worker_s_metrics(tmp_path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in SERVE_VARIABLES}
    file = config_file(tmp_path, f"port: {port}\nworkers: 2\nmax_batch: 3\n")
    command = [str(Path(sys.executable).with_name("dealcoach")), "serve", "--config", file]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, env=env, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{base}/v1/ready")
        answers = [httpx.post(f"{base}/v1/review", json=DEAL, headers={"X-Request-ID": f"load-{i}"}, timeout=30) for i in range(20)]
        assert all(a.status_code == 200 for a in answers)
        assert httpx.post(f"{base}/v1/review/batch", json={"deals": [DEAL] * 4}, timeout=30).status_code == 413  # max_batch from the file
        scrapes = [metric_samples(httpx.get(f"{base}/metrics", timeout=30).text) for _ in range(4)]
        reviewed = (("method", "POST"), ("route", "/v1/review"), ("status", "200"))
        assert {scrape[("dealcoach_http_requests_total", reviewed)] for scrape in scrapes} == {20}  # whichever worker answers
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    entries = [json.loads(line) for line in stderr.splitlines()]
    assert entries[0]["event"] == "starting" and entries[0]["workers"] == 2 and entries[0]["config"].startswith(f"file {file}")
    folder = re.search(r"workers' files in (\S+)", entries[0]["metrics"]).group(1)
    assert not Path(folder).exists()  # removed when serve stopped
    logged = {e["request_id"]: e for e in entries if e.get("event") == "request" and e["path"] == "/v1/review"}
    assert all(logged[f"load-{i}"]["decision_id"] == answers[i].json()["decision_id"] for i in range(20))


def test_a_worker_does_not_recheck_what_serve_alone_reads(monkeypatch) -> None:
    """`DEALCOACH_PORT=abc dealcoach serve --port 8080`: the option won in serve, and a worker must not die on the variable."""
    monkeypatch.setenv("DEALCOACH_PORT", "abc")
    monkeypatch.setenv("DEALCOACH_NO_AUTH", "maybe")
    monkeypatch.setenv("DEALCOACH_MAX_BATCH", "7")
    assert Settings.from_env().max_batch == 7
    monkeypatch.setenv("DEALCOACH_MAX_BATCH", "lots")
    with pytest.raises(SettingError, match="DEALCOACH_MAX_BATCH"):  # what the worker does read is still checked
        Settings.from_env()


def test_a_set_but_empty_webhook_token_is_refused_not_read_as_none() -> None:
    with pytest.raises(TokenError, match="DEALCOACH_WEBHOOK_TOKEN is empty"):
        resolve({}, {"DEALCOACH_WEBHOOK_TOKEN": " "})
    assert resolve({}, {}).settings.webhook_token is None
