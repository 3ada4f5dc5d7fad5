"""Delivery to 企业微信, 钉钉 and 飞书 against a local robot server that checks shape, signature, size and rate as
the platforms do (tests/chat_server.py verifies signatures with code of its own)."""

from __future__ import annotations

import json
from collections import deque

import pytest
from click.testing import CliRunner

from dealcoach.chat import ChannelError, Message, Sender, channel_named
from dealcoach.chat.fitting import MORE, fit
from dealcoach.chat.platforms import PLATFORMS
from dealcoach.cli import cli

from chat_server import DINGTALK_TOKEN, Robots, robots_server, webhooks
from helpers import ROOT

ZH = str(ROOT / "examples" / "example-deal.zh.yaml")
EXAMPLES = ROOT / "examples" / "crm"


@pytest.fixture
def robots():
    robots = Robots()
    with robots_server(robots) as base:
        robots.base = base
        yield robots


def write_channels(tmp_path, robots: Robots, **extra: dict) -> str:
    hooks = webhooks(robots.base)
    channels = {
        "华东大客户群": {"platform": "wecom", "webhook": hooks["wecom"]},
        "销售管理群": {"platform": "钉钉", "webhook": hooks["dingtalk"], "secret_env": "TEST_DINGTALK_SECRET"},
        "飞书项目群": {"platform": "feishu", "webhook_env": "TEST_FEISHU_WEBHOOK", "secret": robots.feishu_secret},
    }
    for name, changes in extra.items():
        channels[name] = {**channels.get(name, {}), **changes}
    path = tmp_path / "channels.yaml"
    path.write_text(json.dumps({"channels": channels}, ensure_ascii=False), encoding="utf-8")
    path.chmod(0o600)
    return str(path)


@pytest.fixture
def run(robots, monkeypatch, tmp_path):
    monkeypatch.setenv("TEST_DINGTALK_SECRET", robots.dingtalk_secret)
    monkeypatch.setenv("TEST_FEISHU_WEBHOOK", webhooks(robots.base)["feishu"])
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("DEALCOACH_CHANNELS", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_one_brief_reaches_each_chat_signed_in_its_own_format(run, robots, tmp_path) -> None:
    channels = write_channels(tmp_path, robots)
    result = run("brief", ZH, "-a", "chen,wang", "--date", "2026-11-25", "--purpose", "negotiation", "-o", str(tmp_path / "b.md"),
                 "--send", "华东大客户群", "--send", "销售管理群", "--send", "飞书项目群", "--channels", channels)
    assert result.exit_code == 0, result.output
    answers = {m["platform"]: m for m in robots.received}
    assert [m["answer"].get("errcode", m["answer"].get("code")) for m in robots.received] == [0, 0, 0]
    wecom = answers["wecom"]["body"]["markdown"]["content"]
    assert "价格和条件怎么谈" in wecom and len(wecom.encode()) <= 4096
    dingtalk = answers["dingtalk"]
    assert dingtalk["query"]["access_token"] == [DINGTALK_TOKEN] and dingtalk["query"]["sign"]  # verified by the server
    assert dingtalk["body"]["markdown"]["title"] == "会前简报 · 二期智能产线改造（MES + 自动化）"
    card = answers["feishu"]["body"]["card"]
    assert card["header"]["title"]["content"] == "会前简报 · 二期智能产线改造（MES + 自动化）"
    assert "会前简报" not in card["elements"][0]["text"]["content"].split("\n")[0]  # the title is the header, not repeated
    assert "sent: 会前简报" in result.output and result.output.count("sent:") == 3


def test_a_wrong_secret_is_refused_once_with_what_to_fix(run, robots, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TEST_DINGTALK_SECRET", "SEC-not-the-robots-secret")
    result = run("review", ZH, "--send", "销售管理群", "--send", "飞书项目群", "--channels",
                 write_channels(tmp_path, robots, 飞书项目群={"secret": "wrong"}))
    assert result.exit_code == 8
    assert "NOT SENT" in result.output and "钉钉 answered 310000: sign not match" in result.output and "check the channel's secret" in result.output
    assert "飞书 answered 19021" in result.output
    assert len(robots.received) == 2  # a refusal is not retried


def test_a_rate_limit_is_retried_with_backoff_then_sent() -> None:
    robots = Robots(script={"wecom": deque(["rate_limited", "rate_limited"])})
    waits: list[float] = []
    with robots_server(robots) as base:
        channel = _channel("wecom", webhooks(base)["wecom"], backoff=2.0)
        delivery = Sender(sleep=waits.append).send(channel, Message("# 周凯：1 单\n① 本周约陈国华"))
    assert delivery.ok and delivery.attempts == 3 and waits == [2.0, 4.0]
    assert [m["answer"]["errcode"] for m in robots.received] == [45009, 45009, 0]


def test_a_rate_limit_that_persists_is_reported_and_later_messages_are_not_hammered() -> None:
    robots = Robots(script={"dingtalk": deque(["rate_limited"] * 10)})
    waits: list[float] = []
    with robots_server(robots) as base:
        channel = _channel("dingtalk", webhooks(base)["dingtalk"], backoff=1.0, retries=2, secret=robots.dingtalk_secret)
        first, second = Sender(sleep=waits.append).send_all(channel, [Message("# 一"), Message("# 二")])
    assert not first.ok and first.attempts == 3 and first.code == 130101 and "send too fast" in first.line()
    assert not second.ok and second.attempts == 0 and "not tried" in second.line() and "rate-limited" in second.line()
    assert len(robots.received) == 3 and waits == [1.0, 2.0]


def _channel(platform: str, webhook: str, backoff: float = 0.0, retries: int = 3, secret: str | None = None):
    from dealcoach.chat.channels import Channel, ChannelSpec

    return Channel(platform, ChannelSpec(platform=platform, retries=retries, backoff_seconds=backoff), webhook, secret)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_message_over_the_limit_is_cut_at_a_line_with_a_visible_note_and_accepted(platform: str) -> None:
    lines = [f"### {n}. 客户还在「供应商初步调查、筛选」，我们却报到了「提案阶段」：先找赵敏问清采购实际走到哪一步" for n in range(400)]
    markdown = "# 二期智能产线改造 · 华东精工\n" + "\n".join(lines)
    robots = Robots(dingtalk_secret="SECabc", feishu_secret="fs")
    with robots_server(robots) as base:
        channel = _channel(platform, webhooks(base)[platform], secret={"dingtalk": "SECabc", "feishu": "fs"}.get(platform))
        delivery = Sender(sleep=lambda s: None).send(channel, Message(markdown, "zh"))
    assert delivery.ok and delivery.trimmed, delivery.line()
    sent = json.dumps(robots.received[0]["body"], ensure_ascii=False)
    assert MORE["zh"] in sent and "399." not in sent
    measured = robots.received[0]["bytes"] if platform != "wecom" else len(robots.received[0]["body"]["markdown"]["content"].encode())
    assert PLATFORMS[platform].limit_bytes - 300 < measured <= PLATFORMS[platform].limit_bytes  # as full as fits


def test_fitting_keeps_a_short_message_whole_and_cuts_an_endless_line() -> None:
    wecom = PLATFORMS["wecom"]
    assert fit(wecom, "t", "# 标题\n一行", "zh").trimmed is False
    endless = fit(wecom, "t", "字" * 5000, "en")
    assert endless.trimmed and endless.content.endswith(MORE["en"]) and endless.size <= 4096


def test_pacing_keeps_every_minute_under_the_platforms_rate() -> None:
    now = [0.0]
    posted: list[float] = []

    def post(url, body, timeout):
        posted.append(now[0])
        return 200, b'{"errcode":0,"errmsg":"ok"}'

    def sleep(seconds: float) -> None:
        now[0] += seconds

    sender = Sender(clock=lambda: now[0], sleep=sleep, post=post)
    channel = _channel("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
    assert all(d.ok for d in sender.send_all(channel, [Message(f"# {n}") for n in range(45)]))
    assert max(sum(1 for t in posted if start <= t < start + 60) for start in posted) == 20
    assert posted[20] >= 60 and posted[40] >= 120


def test_pipeline_sends_one_message_per_owner_with_blocking_risks_and_first_moves(run, robots, tmp_path) -> None:
    result = run("pipeline", str(EXAMPLES / "fxiaoke-page.json"), "--from", "fxiaoke", "--as-of", "2026-11-20",
                 "--mapping", str(EXAMPLES / "fxiaoke-mapping.yaml"), "-o", str(tmp_path / "r.jsonl"), "-j", "1", "-q",
                 "--send", "华东大客户群", "--channels", write_channels(tmp_path, robots))
    assert result.exit_code == 0, result.output
    contents = [m["body"]["markdown"]["content"] for m in robots.received]
    assert [c.split("\n")[0] for c in contents] == ["# 李娜：1 单，阻断风险 2 条", "# 周凯：1 单，阻断风险 0 条"]
    assert "**【阻断】" in contents[0] and "园区SIS安全仪表系统" in contents[0] and "①" in contents[1]
    assert "仓储立库改造" not in "".join(contents)  # skipped by the mapping: not coached


def test_send_sends_files_and_refuses_bad_input_before_sending(run, robots, tmp_path) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("# 会前简报\n① 先问清预算", encoding="utf-8")
    channels = write_channels(tmp_path, robots)
    assert run("send", str(brief), "--to", "飞书项目群", "--channels", channels).exit_code == 0
    empty = tmp_path / "empty.md"
    empty.write_text("  \n", encoding="utf-8")
    assert run("send", str(empty), "--to", "飞书项目群", "--channels", channels).exit_code == 2
    unknown = run("send", str(brief), "--to", "没有这个群", "--channels", channels)
    assert unknown.exit_code == 2 and "unknown channel '没有这个群'" in unknown.output
    assert len(robots.received) == 1


def test_channels_need_their_webhook_and_secret_from_file_or_environment_never_unsafe(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("DEALCOACH_CHANNELS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("DEALCOACH_DINGTALK_WEBHOOK", raising=False)
    with pytest.raises(ChannelError, match="DEALCOACH_DINGTALK_WEBHOOK .* is not set"):
        channel_named("dingtalk")
    monkeypatch.setenv("DEALCOACH_DINGTALK_WEBHOOK", "http://oapi.dingtalk.com/robot/send?access_token=x")
    with pytest.raises(ChannelError, match="must be an https:// URL"):
        channel_named("钉钉")
    monkeypatch.setenv("DEALCOACH_DINGTALK_WEBHOOK", "https://oapi.dingtalk.com/robot/send?access_token=x")
    monkeypatch.setenv("DEALCOACH_DINGTALK_SECRET", "SECxyz")
    channel = channel_named("dingtalk")
    assert channel.secret == "SECxyz" and "SECxyz" not in repr(channel) and "access_token" not in repr(channel)
    shared = tmp_path / "channels.yaml"
    shared.write_text('channels:\n  群: {platform: wecom, webhook: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}\n', encoding="utf-8")
    shared.chmod(0o644)
    warnings: list[str] = []
    channel_named("群", str(shared), warn=warnings.append)
    assert warnings == [f"{shared} holds webhooks or secrets and others can read it: chmod 600 {shared}"]
    shared.write_text("channels:\n  群: {platform: 微信, webhook: x}\n", encoding="utf-8")
    with pytest.raises(ChannelError, match="unknown platform '微信'"):
        channel_named("群", str(shared))
