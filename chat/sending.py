"""Sending messages to channels: paced under each platform's rate, retried with backoff on a rate-limit or
transient answer, one Delivery per message (failures reported, never dropped)."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .channels import Channel
from .fitting import fit
from .platforms import OK, RATE_LIMITED, REFUSED, TRANSIENT, Answer, title_of

MAX_ANSWER_BYTES = 65_536
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Message:
    """One message: dealcoach markdown, its language, what it is (for the report), and who to @."""

    markdown: str
    lang: str = "zh"
    label: str = ""
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delivery:
    """What became of one message on one channel."""

    channel: str
    label: str
    ok: bool
    attempts: int
    trimmed: bool
    size: int
    code: int | str | None = None
    detail: str = ""

    def line(self) -> str:
        """One line for the person who sent it."""
        trimmed = " (trimmed to fit, ends with …更多见完整报告)" if self.trimmed else ""
        if self.ok:
            return f"sent: {self.label} → {self.channel}, {self.size} bytes{trimmed}"
        tries = f" after {self.attempts} {'try' if self.attempts == 1 else 'tries'}" if self.attempts else ""
        return f"NOT SENT: {self.label} → {self.channel}{tries}: {self.detail}"


def _post(url: str, body: bytes, timeout: float) -> tuple[int, bytes]:
    """POST a JSON body; (HTTP status, answer body). A network failure raises OSError."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - https, or http to this machine only
            return answer.status, answer.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as error:
        return error.code, error.read(MAX_ANSWER_BYTES)


HINTS = {  # what to do about a refusal, by platform and code (and a word of the message where one code says several things)
    ("wecom", 93000, ""): "the webhook key is wrong or the robot was removed from the group",
    ("wecom", 40058, ""): "the message is too long for 企业微信 (4,096 bytes)",
    ("dingtalk", 310000, "sign"): "the 加签 secret does not match the robot's: check the channel's secret",
    ("dingtalk", 310000, "keyword"): "the robot requires a keyword: set the channel's keyword to it",
    ("dingtalk", 310000, "ip"): "the robot allows only listed IP addresses: add this machine's",
    ("dingtalk", 310000, "timestamp"): "this machine's clock is more than an hour off",
    ("dingtalk", 300001, ""): "the access_token is wrong or the robot was removed",
    ("dingtalk", 300005, ""): "the access_token is wrong or the robot was removed",
    ("feishu", 19021, ""): "the signature does not match: check the channel's secret and this machine's clock",
    ("feishu", 19022, ""): "the bot allows only listed IP addresses: add this machine's",
    ("feishu", 19024, ""): "the bot requires a keyword: set the channel's keyword to it",
}


def _hint(platform: str, answer: Answer) -> str:
    message = answer.message.lower()
    for (name, code, word), hint in HINTS.items():
        if name == platform and code == answer.code and word in message:
            return f"; {hint}"
    return ""


@dataclass
class _Pace:
    """Send times on one channel, to stay under its per-minute (and per-second) rate."""

    sent: deque = field(default_factory=deque)
    gave_up: str | None = None


class Sender:
    """Sends messages, pacing each channel under its platform's rate; clock, sleep and post are replaceable."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time, post: Callable[[str, bytes, float], tuple[int, bytes]] = _post,
        timeout: float = TIMEOUT_SECONDS,
    ):
        self.clock, self.sleep, self.wall, self.post, self.timeout = clock, sleep, wall, post, timeout
        self.paces: dict[str, _Pace] = {}

    def _wait_turn(self, channel: Channel, pace: _Pace) -> None:
        while True:
            now = self.clock()
            while pace.sent and now - pace.sent[0] >= 60:
                pace.sent.popleft()
            waits = []
            if len(pace.sent) >= channel.per_minute:
                waits.append(60 - (now - pace.sent[0]))
            per_second = channel.platform.per_second
            if per_second and len(pace.sent) >= per_second and now - pace.sent[-per_second] < 1:
                waits.append(1 - (now - pace.sent[-per_second]))
            if not waits:
                return
            self.sleep(max(waits) + 0.01)

    def send(self, channel: Channel, message: Message) -> Delivery:
        """Send one message; the Delivery says whether it arrived, after how many tries, and why not."""
        pace = self.paces.setdefault(channel.name, _Pace())
        markdown = message.markdown
        keyword = channel.spec.keyword
        if keyword and keyword not in markdown:
            markdown = f"{markdown.rstrip()}\n\n{keyword}"
        title = title_of(markdown)
        fitted = fit(channel.platform, title, markdown, message.lang, list(message.mentions))
        label = message.label or title
        if pace.gave_up:
            return Delivery(channel.shown, label, False, 0, fitted.trimmed, fitted.size, None, pace.gave_up)
        wait = channel.spec.backoff_seconds
        answer = Answer(TRANSIENT, None, "not tried")
        attempts = 0
        for attempts in range(1, channel.spec.retries + 2):
            self._wait_turn(channel, pace)
            request = channel.platform.request(channel.webhook, title, fitted.content, list(message.mentions), channel.secret, self.wall())
            pace.sent.append(self.clock())
            try:
                status, body = self.post(request.url, request.body, self.timeout)
                answer = channel.platform.answer(status, body)
            except (OSError, socket.timeout) as error:  # no answer: the network, DNS, a timeout
                answer = Answer(TRANSIENT, None, f"no answer from {channel.platform.label['en']}: {getattr(error, 'reason', error)}")
            if answer.outcome in (OK, REFUSED):
                break
            if attempts <= channel.spec.retries:
                self.sleep(wait)
                wait *= 2
        if answer.outcome == OK:
            return Delivery(channel.shown, label, True, attempts, fitted.trimmed, fitted.size, 0, "")
        name = channel.platform.label["zh"]
        detail = answer.message
        if answer.code is not None:
            detail = f"{name} answered {answer.code}: {answer.message}{_hint(channel.platform.name, answer)}"
        if answer.outcome == RATE_LIMITED:
            pace.gave_up = f"not tried: {channel.shown} was still rate-limited ({detail}); send it again later"
            detail += f"; gave up after {attempts} tries, backing off {channel.spec.backoff_seconds:g} s and doubling"
        return Delivery(channel.shown, label, False, attempts, fitted.trimmed, fitted.size, answer.code, detail)

    def send_all(self, channel: Channel, messages: list[Message]) -> list[Delivery]:
        return [self.send(channel, message) for message in messages]
