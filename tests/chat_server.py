"""A local stand-in for the 企业微信, 钉钉 and 飞书 group robots: checks each request's shape, signature, size and
rate as the platform does, and answers with the platform's documented success and error bodies.

The signatures are checked here by code of its own (hmac.digest, parse_qs), not by dealcoach's.
"""

from __future__ import annotations

import base64
import hmac
import json
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from helpers import http_server

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK_TOKEN = "b2c9f1e0d3a4"
FEISHU_TOKEN = "3f1c6a9e-0000-4d2b-9f51-7c1d2e3f4a5b"


@dataclass
class Robots:
    """What the robots expect (secrets, keywords) and what they saw; `script` forces answers per platform."""

    dingtalk_secret: str | None = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
    feishu_secret: str | None = "fs-secret-9f8e7d6c5b4a"
    keywords: dict[str, str] = field(default_factory=dict)
    script: dict[str, deque] = field(default_factory=dict)  # platform -> answers to give first ("rate_limited", "busy")
    received: list[dict] = field(default_factory=list)
    sent_at: dict[str, deque] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def scripted(self, platform: str) -> str | None:
        queue = self.script.get(platform)
        return queue.popleft() if queue else None

    def over_rate(self, platform: str, per_minute: int, per_second: int | None = None) -> bool:
        now = time.monotonic()
        times = self.sent_at.setdefault(platform, deque())
        while times and now - times[0] >= 60:
            times.popleft()
        if len(times) >= per_minute or per_second and len([t for t in times if now - t < 1]) >= per_second:
            return True
        times.append(now)
        return False


def _wecom(robots: Robots, query: dict, raw: bytes) -> dict:
    if query.get("key") != [WECOM_KEY]:
        return {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1_abc], from ip: 127.0.0.1"}
    body = json.loads(raw)
    if body.get("msgtype") != "markdown" or not isinstance(body.get("markdown", {}).get("content"), str):
        return {"errcode": 40008, "errmsg": "invalid message type"}
    content = body["markdown"]["content"]
    if len(content.encode("utf-8")) > 4096:
        return {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096. invalid Request Parameter"}
    if robots.scripted("wecom") == "rate_limited" or robots.over_rate("wecom", 20):
        return {"errcode": 45009, "errmsg": "api freq out of limit"}
    return {"errcode": 0, "errmsg": "ok"}


def _dingtalk(robots: Robots, query: dict, raw: bytes) -> dict:
    if query.get("access_token") != [DINGTALK_TOKEN]:
        return {"errcode": 300005, "errmsg": "token is not exist"}
    if robots.dingtalk_secret:
        stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
        if not stamp.isdigit() or abs(time.time() * 1000 - int(stamp)) > 3_600_000:
            return {"errcode": 310000, "errmsg": "invalid timestamp"}
        secret = robots.dingtalk_secret.encode()
        expected = hmac.digest(secret, stamp.encode() + b"\n" + secret, "sha256")
        try:
            given = base64.b64decode(sign, validate=True)
        except ValueError:
            given = b""
        if not hmac.compare_digest(given, expected):
            return {"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}
    if len(raw) > 20000:
        return {"errcode": 460101, "errmsg": "message too long, exceed 20000 bytes"}
    body = json.loads(raw)
    markdown = body.get("markdown", {})
    if body.get("msgtype") != "markdown" or not markdown.get("title") or not isinstance(markdown.get("text"), str):
        return {"errcode": 40035, "errmsg": "缺少参数 json"}
    keyword = robots.keywords.get("dingtalk")
    if keyword and keyword not in markdown["title"] + markdown["text"]:
        return {"errcode": 310000, "errmsg": "keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}
    if robots.scripted("dingtalk") == "rate_limited" or robots.over_rate("dingtalk", 20):
        return {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
    return {"errcode": 0, "errmsg": "ok"}


def _feishu(robots: Robots, path: str, raw: bytes) -> dict:
    if path != f"/open-apis/bot/v2/hook/{FEISHU_TOKEN}":
        return {"code": 19001, "data": {}, "msg": "param invalid: incoming webhook access token invalid"}
    if len(raw) > 20 * 1024:
        return {"code": 9499, "data": {}, "msg": "Bad Request"}
    body = json.loads(raw)
    if robots.feishu_secret:
        stamp = str(body.get("timestamp", ""))
        key = f"{stamp}\n{robots.feishu_secret}".encode()
        expected = base64.b64encode(hmac.digest(key, b"", "sha256")).decode()
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 3600 or body.get("sign") != expected:
            return {"code": 19021, "data": {}, "msg": "sign match fail or timestamp is not within one hour from current time"}
    card = body.get("card", {})
    elements = card.get("elements", [])
    if body.get("msg_type") != "interactive" or not elements or elements[0].get("text", {}).get("tag") != "lark_md":
        return {"code": 9499, "data": {}, "msg": "Bad Request"}
    keyword = robots.keywords.get("feishu")
    if keyword and keyword not in json.dumps(card, ensure_ascii=False):
        return {"code": 19024, "data": {}, "msg": "Key Words Not Found"}
    if robots.scripted("feishu") == "rate_limited" or robots.over_rate("feishu", 100, 5):
        return {"code": 11232, "data": {}, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1500]"}
    return {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}


def _handler(robots: Robots):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                answer, platform = {"errcode": 40035, "errmsg": "content type must be application/json"}, "?"
            elif parts.path == "/cgi-bin/webhook/send":
                answer, platform = _wecom(robots, query, raw), "wecom"
            elif parts.path == "/robot/send":
                answer, platform = _dingtalk(robots, query, raw), "dingtalk"
            elif parts.path.startswith("/open-apis/bot/v2/hook/"):
                answer, platform = _feishu(robots, parts.path, raw), "feishu"
            else:
                self.send_error(404)
                return
            with robots.lock:
                robots.received.append({"platform": platform, "path": parts.path, "query": query, "bytes": len(raw),
                                        "body": json.loads(raw) if raw.startswith(b"{") else None, "answer": answer})
            data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
            self.send_response(200)  # all three answer 200, with the outcome in the body
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def robots_server(robots: Robots):
    """Serve the robots on a free loopback port; yields the base URL."""
    with http_server(_handler(robots)) as base:
        yield base


def webhooks(base: str) -> dict[str, str]:
    return {
        "wecom": f"{base}/cgi-bin/webhook/send?key={WECOM_KEY}",
        "dingtalk": f"{base}/robot/send?access_token={DINGTALK_TOKEN}",
        "feishu": f"{base}/open-apis/bot/v2/hook/{FEISHU_TOKEN}",
    }
