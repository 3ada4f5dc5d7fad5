"""Where messages go: channels named in a channels file, or given by environment variables.

A channels file (YAML; `--channels FILE`, else $DEALCOACH_CHANNELS, else ~/.config/dealcoach/channels.yaml):

    channels:
      华东大客户群:
        platform: wecom                       # wecom | dingtalk | feishu (or 企业微信 | 钉钉 | 飞书)
        webhook_env: DEALCOACH_WECOM_EAST     # or webhook: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...
      销售管理群:
        platform: dingtalk
        webhook: https://oapi.dingtalk.com/robot/send?access_token=...
        secret_env: DEALCOACH_DINGTALK_SECRET # 加签 secret; or secret: SEC...
        keyword: 复盘                          # the robot's security keyword, added when a message lacks it

Without a file entry, the channel names wecom, dingtalk and feishu read DEALCOACH_<PLATFORM>_WEBHOOK and
DEALCOACH_<PLATFORM>_SECRET. Webhooks and secrets are never taken from the command line, where shell history
and process lists would keep them.
"""

from __future__ import annotations

import os
import stat
import urllib.parse
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..engine.errors import DealcoachError
from ..engine.loading import read_document
from ..engine.user_files import config_file, secure_url
from .platforms import ALIASES, PLATFORMS, Platform

CHANNELS_VARIABLE = "DEALCOACH_CHANNELS"
DEFAULT_FILE = Path("~/.config/dealcoach/channels.yaml")


class ChannelError(DealcoachError):
    """A channel that cannot be used: unknown, its file invalid, its webhook or secret missing or unsafe (exit 2)."""

    exit_code = 2


class ChannelSpec(BaseModel):
    """One channel as written in the channels file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    platform: str
    webhook: str | None = None
    webhook_env: str | None = None
    secret: str | None = None
    secret_env: str | None = None
    keyword: str | None = Field(default=None, max_length=64)
    per_minute: int | None = Field(default=None, ge=1, le=1000, description="messages a minute (default: the platform's limit)")
    retries: int = Field(default=3, ge=0, le=10, description="tries again after a rate-limit or transient answer")
    backoff_seconds: float = Field(default=15.0, ge=0, le=600, description="the first wait before trying again; doubled each time")

    @field_validator("platform")
    @classmethod
    def known_platform(cls, value: str) -> str:
        name = ALIASES.get(value, value.lower())
        if name not in PLATFORMS:
            raise ValueError(f"unknown platform {value!r}; allowed: {', '.join(PLATFORMS)} (企业微信, 钉钉, 飞书)")
        return name


class ChannelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    channels: dict[str, ChannelSpec]


class Channel:
    """A usable channel: its platform, webhook, secret and pacing."""

    def __init__(self, name: str, spec: ChannelSpec, webhook: str, secret: str | None):
        self.name, self.spec, self.webhook, self.secret = name, spec, webhook, secret
        self.platform: Platform = PLATFORMS[spec.platform]
        self.per_minute = min(spec.per_minute or self.platform.per_minute, self.platform.per_minute)

    def __repr__(self) -> str:  # never the webhook or the secret
        return f"Channel({self.name!r}, {self.platform.name})"

    @property
    def shown(self) -> str:
        return f"{self.name} ({self.platform.label['zh']})"


def _read_variable(name: str, what: str, channel: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ChannelError(f"channel {channel!r}: the environment variable {name} (its {what}) is not set or empty")
    return value


def _checked_webhook(url: str, channel: str) -> str:
    """A webhook URL that is https (or http to this machine, for a local test server)."""
    if secure_url(url):
        return url
    parts = urllib.parse.urlsplit(url)
    raise ChannelError(f"channel {channel!r}: the webhook must be an https:// URL (the key in it is a secret), "
                       f"got a {parts.scheme or 'schemeless'} URL for {parts.hostname or 'no host'}")


def channels_file(path: str | None) -> Path | None:
    """The channels file to read: the one given, $DEALCOACH_CHANNELS, or the default when it exists."""
    return config_file(path, CHANNELS_VARIABLE, DEFAULT_FILE)


def _load(path: Path) -> ChannelsFile:
    try:
        return ChannelsFile.model_validate(read_document(str(path)))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise ChannelError(f"channels file {path}: {problems}") from None
    except DealcoachError as error:
        raise ChannelError(f"channels file {path}: {error}") from None


def warnings_for(path: Path, data: ChannelsFile) -> list[str]:
    """A channels file holding webhooks or secrets that others on the machine can read."""
    holds_secrets = any(spec.webhook or spec.secret for spec in data.channels.values())
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    if holds_secrets and mode & (stat.S_IRGRP | stat.S_IROTH):
        return [f"{path} holds webhooks or secrets and others can read it: chmod 600 {path}"]
    return []


def channel_named(name: str, path: str | None = None, warn=None) -> Channel:
    """The channel `name` from the channels file, or from DEALCOACH_<PLATFORM>_WEBHOOK / _SECRET for the names
    wecom, dingtalk and feishu. ChannelError says what is missing."""
    source = channels_file(path)
    specs: dict[str, ChannelSpec] = {}
    if source is not None:
        data = _load(source)
        for line in warnings_for(source, data):
            if warn:
                warn(line)
        specs = dict(data.channels)
    if name in specs:
        spec = specs[name]
        if bool(spec.webhook) == bool(spec.webhook_env):
            raise ChannelError(f"channel {name!r} in {source}: give exactly one of webhook and webhook_env")
        if spec.secret and spec.secret_env:
            raise ChannelError(f"channel {name!r} in {source}: give at most one of secret and secret_env")
        webhook = spec.webhook or _read_variable(spec.webhook_env or "", "webhook", name)
        secret = spec.secret or (_read_variable(spec.secret_env, "secret", name) if spec.secret_env else None)
        return Channel(name, spec, _checked_webhook(webhook, name), secret)
    platform = ALIASES.get(name, name.lower())
    if platform in PLATFORMS:
        variable = f"DEALCOACH_{platform.upper()}"
        webhook = _read_variable(f"{variable}_WEBHOOK", "webhook", name)
        secret = os.environ.get(f"{variable}_SECRET", "").strip() or None
        return Channel(name, ChannelSpec(platform=platform), _checked_webhook(webhook, name), secret)
    known = ", ".join(specs) if specs else f"none (no channels file{'' if source is None else ' entries'})"
    raise ChannelError(f"unknown channel {name!r}: channels file entries: {known}; or use wecom, dingtalk or feishu "
                       "with DEALCOACH_<PLATFORM>_WEBHOOK set")
