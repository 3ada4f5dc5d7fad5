"""Shared test helpers: paths, the rule-case fixtures and a minimal valid deal."""

from __future__ import annotations

import copy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from dealcoach.engine.loading import _DealYamlLoader

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "rule_cases"
ROOT = HERE.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
EXAMPLE_ZH = ROOT / "examples" / "example-deal.zh.yaml"
EXAMPLE_EN = ROOT / "examples" / "example-deal.en.yaml"


def read_yaml(path: Path):
    """Fixtures are read the way deal files are (dates stay text, repeated keys fail)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_DealYamlLoader)


def base_deal() -> dict:
    return read_yaml(CASES_DIR / "_base.yaml")


def case_deal(case: dict) -> dict:
    """The base deal with the case's top-level keys replaced."""
    deal = base_deal()
    deal.update(copy.deepcopy(case.get("deal", {})))
    return deal


def rule_cases() -> dict[str, dict]:
    """code -> {"fires": [...], "silent": [...]} from tests/rule_cases/<CODE>.yaml."""
    return {path.stem: read_yaml(path) for path in sorted(CASES_DIR.glob("DC*.yaml"))}


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A stand-in server (a CRM's API, a chat robot) on a free loopback port until the block ends; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(url: str, tries: int = 300) -> None:
    """Until GET `url` answers 200 (a service starting in another process), a tenth of a second between tries."""
    import httpx

    for _ in range(tries):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer 200 after {tries} tries")
