"""The three group robots: message body, signing, size limit, pacing and how to read each answer.

Facts from the platforms' documentation (README "Sending to group chats" lists them):

- 企业微信 group robot: `{"msgtype":"markdown","markdown":{"content"}}`, content at most 4,096 bytes
  (errcode 40058), 20 messages a minute (45009); no signature, the webhook key is the secret.
- 钉钉 custom robot: `{"msgtype":"markdown","markdown":{"title","text"}}`, body at most 20,000 bytes
  (460101), 20 a minute (130101); signed with base64(HmacSHA256(key=secret, msg=timestamp_ms + "\\n" +
  secret)), URL-encoded, as the `timestamp` and `sign` query parameters.
- 飞书 custom bot: an interactive card with a `lark_md` text, body at most 20 KB (9499), 100 a minute and
  5 a second (11232, 9499 "too many request"); signed with base64(HmacSHA256(key=timestamp_s + "\\n" +
  secret, msg="")) as `timestamp` and `sign` in the body.

All three answer HTTP 200 with an error code in the body, so the body decides.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

OK, RATE_LIMITED, TRANSIENT, REFUSED = "ok", "rate_limited", "transient", "refused"


@dataclass(frozen=True)
class Answer:
    """What a platform said to one request: ok, rate limited (wait and retry), transient (retry), refused (never retry)."""

    outcome: str
    code: int | str | None
    message: str


@dataclass(frozen=True)
class Request:
    """One signed request, ready to post."""

    url: str
    body: bytes


def _json(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def _lines(markdown: str) -> list[str]:
    return [line.rstrip() for line in markdown.strip("\n").splitlines()]


def _title(markdown: str) -> str:
    """The message's title: its first line, without heading marks or bold."""
    for line in _lines(markdown):
        if line.strip():
            match = _HEADING.match(line)
            text = (match.group(2) if match else line).strip()
            return text[2:-2].strip() if text.startswith("**") and text.endswith("**") and len(text) > 4 else text
    return ""


class Platform:
    """One group robot. Subclasses give the body, the signature and the reading of answers."""

    name = ""
    label: dict[str, str] = {}
    limit_bytes = 0  # the documented size limit: of the whole body, unless `size` measures something else
    per_minute = 0
    per_second: int | None = None
    signed = False  # whether a secret is part of the protocol (钉钉 and 飞书 加签; optional there)
    rate_limit_codes: frozenset = frozenset()
    transient_codes: frozenset = frozenset()

    def content(self, markdown: str) -> str:
        """dealcoach markdown in the platform's markdown."""
        return markdown

    def body(self, title: str, content: str, mentions: list[str]) -> dict:
        raise NotImplementedError

    def request(self, webhook: str, title: str, content: str, mentions: list[str], secret: str | None, now: float) -> Request:
        """The request for one message; `now` (seconds since the epoch) stamps the signature."""
        return Request(webhook, _json(self.body(title, content, mentions)))

    def size(self, title: str, content: str, mentions: list[str]) -> int:
        """The measure the platform's limit applies to, in bytes, for this content as it would be sent."""
        return len(self.request("https://x", title, content, mentions, "SEC" + "0" * 64 if self.signed else None, 1.7e9).body)

    def answer(self, status: int, body: bytes) -> Answer:
        """The platform's answer read from the body (all three say HTTP 200 for most errors)."""
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
        if not isinstance(data, dict):
            outcome = TRANSIENT if status >= 500 or status == 429 else REFUSED
            shown = body[:200].decode("utf-8", "replace").strip() or "(empty)"
            return Answer(outcome, status, f"HTTP {status}, not the platform's JSON answer: {shown}")
        code, message = self.code_and_message(data)
        if code == 0:
            return Answer(OK, 0, message)
        if code in self.rate_limit_codes or status == 429 or "too many request" in message.lower() or "frequency" in message.lower():
            return Answer(RATE_LIMITED, code, message)
        if code in self.transient_codes or status >= 500:
            return Answer(TRANSIENT, code, message)
        return Answer(REFUSED, code, message)

    def code_and_message(self, data: dict) -> tuple[Any, str]:
        return data.get("errcode"), str(data.get("errmsg", ""))


class WeCom(Platform):
    """企业微信 group robot (markdown v1: headings, bold, links, quotes, <@userid> mentions)."""

    name = "wecom"
    label = {"zh": "企业微信", "en": "WeCom"}
    limit_bytes = 4096  # of the markdown content, not the body
    per_minute = 20
    rate_limit_codes = frozenset({45009})
    transient_codes = frozenset({-1})

    def content(self, markdown: str) -> str:
        return "\n".join(_lines(markdown))

    def body(self, title: str, content: str, mentions: list[str]) -> dict:
        if mentions:
            content = content + "\n" + " ".join(f"<@{user}>" for user in mentions)
        return {"msgtype": "markdown", "markdown": {"content": content}}

    def size(self, title: str, content: str, mentions: list[str]) -> int:
        return len(self.body(title, content, mentions)["markdown"]["content"].encode("utf-8"))


class DingTalk(Platform):
    """钉钉 custom robot (markdown with headings, bold, lists, quotes; a line break is written "  \\n")."""

    name = "dingtalk"
    label = {"zh": "钉钉", "en": "DingTalk"}
    limit_bytes = 20_000
    per_minute = 20
    signed = True
    rate_limit_codes = frozenset({130101, 410100})
    transient_codes = frozenset({-1})

    def content(self, markdown: str) -> str:
        lines = _lines(markdown)
        out = []
        for index, line in enumerate(lines):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            hard_break = line.strip() and following.strip() and not _HEADING.match(line)
            out.append(line + ("  " if hard_break else ""))
        return "\n".join(out)

    def body(self, title: str, content: str, mentions: list[str]) -> dict:
        text = content + ("\n\n" + " ".join(f"@{m}" for m in mentions) if mentions else "")
        return {"msgtype": "markdown", "markdown": {"title": title[:64] or "dealcoach", "text": text},
                "at": {"atMobiles": list(mentions), "isAtAll": False}}

    def request(self, webhook: str, title: str, content: str, mentions: list[str], secret: str | None, now: float) -> Request:
        url = webhook
        if secret:
            stamp = str(int(now * 1000))
            digest = hmac.new(secret.encode("utf-8"), f"{stamp}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
            sign = urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))
            url = f"{webhook}{'&' if '?' in webhook else '?'}timestamp={stamp}&sign={sign}"
        return Request(url, _json(self.body(title, content, mentions)))


class Feishu(Platform):
    """飞书 custom bot: an interactive card whose header is the title and whose text is lark_md (bold, links,
    no headings: a heading becomes a bold line)."""

    name = "feishu"
    label = {"zh": "飞书", "en": "Feishu"}
    limit_bytes = 20_000  # "20 KB", read as the smaller of 20,000 and 20,480
    per_minute = 100
    per_second = 5
    signed = True
    rate_limit_codes = frozenset({11232})
    transient_codes = frozenset()

    def content(self, markdown: str) -> str:
        lines = _lines(markdown)
        if lines and _title(lines[0]) == _title(markdown):
            lines = lines[1:]  # the title line is the card's header
        out = []
        for line in lines:
            match = _HEADING.match(line)
            out.append(f"**{match.group(2).strip()}**" if match else line)
        return "\n".join(out).strip("\n")

    def body(self, title: str, content: str, mentions: list[str]) -> dict:
        text = content + ("\n" + " ".join(f"<at id={m}></at>" for m in mentions) if mentions else "")
        return {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {"title": {"tag": "plain_text", "content": title or "dealcoach"}, "template": "blue"},
                "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": text}}],
            },
        }

    def request(self, webhook: str, title: str, content: str, mentions: list[str], secret: str | None, now: float) -> Request:
        body = self.body(title, content, mentions)
        if secret:
            stamp = str(int(now))
            sign = base64.b64encode(hmac.new(f"{stamp}\n{secret}".encode("utf-8"), b"", hashlib.sha256).digest()).decode("ascii")
            body = {"timestamp": stamp, "sign": sign, **body}
        return Request(webhook, _json(body))

    def code_and_message(self, data: dict) -> tuple[Any, str]:
        code = data.get("code", data.get("StatusCode"))
        return code, str(data.get("msg", data.get("StatusMessage", "")))


PLATFORMS: dict[str, Platform] = {p.name: p for p in (WeCom(), DingTalk(), Feishu())}
ALIASES = {"企业微信": "wecom", "企微": "wecom", "钉钉": "dingtalk", "飞书": "feishu", "lark": "feishu", "weixin_work": "wecom"}


def title_of(markdown: str) -> str:
    """The title a message shows in the chat list and notification."""
    return _title(markdown)
