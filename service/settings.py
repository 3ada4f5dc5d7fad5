"""How the service runs: every setting, where each value came from, and what a bearer token may be.

One precedence order for every setting: a command-line option of `dealcoach serve`, else its DEALCOACH_*
environment variable, else the config file (`--config FILE` or DEALCOACH_CONFIG, YAML), else the built-in
default. `resolve` applies it and checks every value; a bad one is a SettingError naming where it came from
(the option, the variable, or file: key), what was wrong and what is allowed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from ..engine.loading import open_for_reading
from ..engine.yaml_limits import BoundedSafeLoader, repeated_key

TOKEN_VARIABLE = "DEALCOACH_API_TOKEN"
CONFIG_VARIABLE = "DEALCOACH_CONFIG"
MIN_TOKEN_LENGTH = 16
MAX_TOKEN_FILE = 4096  # bytes; a token file holds one token
MAX_CONFIG_FILE = 65_536  # bytes
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 b64token: what a client can send after "Bearer "
TOKEN_RULE = (
    f"a bearer token is at least {MIN_TOKEN_LENGTH} characters of A-Z a-z 0-9 - . _ ~ + / "
    "(and = only at the end), e.g. from: python -c \"import secrets; print(secrets.token_urlsafe(32))\""
)
EXAMPLE_DEAL = Path(__file__).resolve().parent.parent / "examples" / "example-deal.en.yaml"


class SettingError(ValueError):
    """A setting that cannot be used; the message names its source, what is wrong and what is allowed."""


class TokenError(SettingError):
    """A configured bearer token that would not protect anything, or that no client could send."""


def bearer_token(text: str, source: str) -> str:
    """The token in `text` (surrounding whitespace, e.g. a file's last newline, removed), or TokenError naming
    `source` ("token file F", "DEALCOACH_API_TOKEN"). An empty token is refused rather than read as "no
    authentication": a blank secret must never open the service."""
    token = text.strip()
    if not token:
        raise TokenError(f"{source} is empty")
    if not _TOKEN68.fullmatch(token):
        bad = next((c for c in token if not re.fullmatch(r"[A-Za-z0-9\-._~+/=]", c)), "=")
        where = "inside the token" if bad != "=" else "before the end of the token"
        raise TokenError(f"{source}: {bad!r} {where} is not allowed; {TOKEN_RULE}")
    if len(token) < MIN_TOKEN_LENGTH:
        raise TokenError(f"{source}: the token has {len(token)} characters; {TOKEN_RULE}")
    return token


def read_token_file(path: str, source: str = "") -> str:
    """The token in the file at `path`; TokenError when it cannot be read or holds no valid token."""
    label = f"token file {path}" + (f" ({source})" if source else "")
    try:
        with open_for_reading(path) as handle:
            raw = handle.read(MAX_TOKEN_FILE + 1)
        if len(raw) > MAX_TOKEN_FILE:
            raise TokenError(f"the {label} is larger than {MAX_TOKEN_FILE} bytes; it holds one token")
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TokenError(f"cannot read the {label}: {error}") from None
    return bearer_token(text, label)


@dataclass(frozen=True)
class Settings:
    """How one service process runs (what `create_app` needs; `resolve` says where each value comes from).

    `work_threads` evaluations run at once and `work_queue` more may wait; see service.limits.WorkPool.
    `warm_up_deal` is evaluated once when the app is built: /v1/ready answers 200 only after that succeeded.
    """

    playbook_dir: str | None = None
    mapping_dir: str | None = None
    token: str | None = None
    max_body_bytes: int = 1_000_000
    max_batch: int = 100
    timeout_seconds: float = 10.0
    work_threads: int = 4
    work_queue: int = 32
    log_format: str = "json"
    access_log: bool = True
    metrics: bool = True
    public_metrics: bool = False  # /metrics answers without the token even when the service has one
    warm_up_deal: str = str(EXAMPLE_DEAL)
    crm_config: str | None = None  # the CRM connections file the webhooks read and write through (crm.connections)
    public_url: str | None = None  # the URL callers reach the service at, behind a proxy (HubSpot signs it)
    webhook_token: str | None = None  # the secret Odoo's webhook sends as ?token= (DEALCOACH_WEBHOOK_TOKEN only)
    store: str | None = None  # the decision log every review and gate is written to (dealcoach.store), None: not logged

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from DEALCOACH_* variables over the config file DEALCOACH_CONFIG names (what every worker that
        `dealcoach serve` starts reads: serve exports what it resolved); SettingError for a bad value."""
        listening = {_spec(key).variable for key in ("host", "port", "workers", "no_auth")}  # serve's own, already checked by it
        return resolve({}, {name: value for name, value in os.environ.items() if name not in listening}).settings


# -- how each setting is read and checked ---------------------------------------------------------


def _whole(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, str):
            try:
                value = int(value.strip().replace("_", ""))
            except ValueError:
                raise ValueError(f"{value!r} is not a whole number") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not a whole number")
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range")
        return value

    check.allowed = f"a whole number from {low} to {high}"  # type: ignore[attr-defined]
    return check


def _number(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise ValueError(f"{value!r} is not a number") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{value!r} is not a number")
        if not low <= value <= high:  # NaN fails too
            raise ValueError(f"{value} is out of range")
        return float(value)

    check.allowed = f"a number of seconds from {low:g} to {high:g}"  # type: ignore[attr-defined]
    return check


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _switch(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{value!r} is not true or false")


_switch.allowed = "true or false (also 1/0, yes/no, on/off)"  # type: ignore[attr-defined]


def _choice(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value.strip().lower() not in choices:
            raise ValueError(f"{value!r} is not allowed")
        return value.strip().lower()

    check.allowed = " or ".join(choices)  # type: ignore[attr-defined]
    return check


def _host(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a host")
    return value.strip()


_host.allowed = "a host name or IP address"  # type: ignore[attr-defined]


def _public_url(value: Any) -> str:
    text = value.strip().rstrip("/") if isinstance(value, str) else ""
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", text):
        raise ValueError(f"{value!r} is not an http(s) URL without a query")
    return text


_public_url.allowed = "the service's public base URL, e.g. https://dealcoach.example.com"  # type: ignore[attr-defined]


def _store(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValueError(f"{value!r} is not a location")
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from ..store import StoreError, shown_url, store_url

    try:
        make_url(store_url(text))
    except StoreError as error:
        raise ValueError(str(error)) from None
    except (ArgumentError, ValueError):
        raise ValueError(f"{shown_url(text)!r} is not a database URL") from None
    return text


_store.allowed = "a SQLite file path, `default`, or postgresql://user@host/database"  # type: ignore[attr-defined]


def _path(kind: str) -> Callable[[Any], str]:
    """A path that must exist as a `kind` ("directory" or "file"); relative file values are relative to the file."""

    def check(value: Any) -> str:
        if not isinstance(value, (str, Path)) or not str(value).strip():
            raise ValueError(f"{value!r} is not a path")
        path = Path(str(value).strip())
        if not (path.is_dir() if kind == "directory" else path.exists() and not path.is_dir()):
            raise ValueError(f"{str(path)!r} is not an existing {kind}")
        return str(path)

    check.allowed = f"the path of an existing {kind}"  # type: ignore[attr-defined]
    return check


@dataclass(frozen=True)
class Spec:
    """One setting: its key (config file key and field name), its serve option and environment variable, how a
    value is checked, and its default."""

    key: str
    option: str | None
    variable: str | None
    check: Callable[[Any], Any]
    default: Any = None

    @property
    def allowed(self) -> str:
        return self.check.allowed  # type: ignore[attr-defined]


_DEFAULTS = Settings()
SPECS: tuple[Spec, ...] = (
    Spec("host", "--host", "DEALCOACH_HOST", _host, "127.0.0.1"),
    Spec("port", "--port", "DEALCOACH_PORT", _whole(1, 65535), 8080),
    Spec("workers", "--workers", "DEALCOACH_WORKERS", _whole(1, 64), None),  # None: the machine's cores
    Spec("token_file", "--token-file", None, _path("file")),  # the token itself: DEALCOACH_API_TOKEN
    Spec("no_auth", "--no-auth", "DEALCOACH_NO_AUTH", _switch, False),
    Spec("playbook", "--playbook", "DEALCOACH_PLAYBOOK", _path("directory")),
    Spec("mappings", "--mappings", "DEALCOACH_MAPPINGS", _path("directory")),
    Spec("max_body_bytes", "--max-body-bytes", "DEALCOACH_MAX_BODY_BYTES", _whole(1_000, 1_000_000_000), _DEFAULTS.max_body_bytes),
    Spec("max_batch", "--max-batch", "DEALCOACH_MAX_BATCH", _whole(1, 10_000), _DEFAULTS.max_batch),
    Spec("timeout_seconds", "--timeout", "DEALCOACH_TIMEOUT_SECONDS", _number(0.1, 600), _DEFAULTS.timeout_seconds),
    Spec("work_threads", "--work-threads", "DEALCOACH_WORK_THREADS", _whole(1, 64), _DEFAULTS.work_threads),
    Spec("work_queue", "--work-queue", "DEALCOACH_WORK_QUEUE", _whole(0, 10_000), _DEFAULTS.work_queue),
    Spec("log_format", "--log-format", "DEALCOACH_LOG_FORMAT", _choice("json", "text"), _DEFAULTS.log_format),
    Spec("access_log", "--access-log", "DEALCOACH_ACCESS_LOG", _switch, _DEFAULTS.access_log),
    Spec("metrics", "--metrics", "DEALCOACH_METRICS", _switch, _DEFAULTS.metrics),
    Spec("public_metrics", "--public-metrics", "DEALCOACH_PUBLIC_METRICS", _switch, _DEFAULTS.public_metrics),
    Spec("warm_up_deal", None, "DEALCOACH_WARM_UP_DEAL", _path("file"), _DEFAULTS.warm_up_deal),
    Spec("crm_config", None, "DEALCOACH_CRM_CONFIG", _path("file")),
    Spec("public_url", None, "DEALCOACH_PUBLIC_URL", _public_url),
    Spec("store", "--store", "DEALCOACH_STORE", _store),
)
WEBHOOK_TOKEN_VARIABLE = "DEALCOACH_WEBHOOK_TOKEN"  # a secret: from the environment only, never from the config file
KEYS = tuple(spec.key for spec in SPECS)
_PATHS = {"token_file", "playbook", "mappings", "warm_up_deal", "crm_config"}  # relative to the config file's folder when written there


@dataclass(frozen=True)
class Configuration:
    """Everything `dealcoach serve` runs with: the app's settings, where it listens, and where each value came from."""

    settings: Settings
    host: str
    port: int
    workers: int | None
    no_auth: bool
    config_file: str | None
    sources: dict[str, str] = field(default_factory=dict)  # key -> "option --port" | "DEALCOACH_PORT" | "file F" | "default"

    def origin(self) -> str:
        """Where the configuration came from, for the start-up line: the file, then what overrode it."""
        def named(kind: str) -> list[str]:
            return sorted(source.split(" ", 1)[1] for source in self.sources.values() if source.startswith(kind + " "))

        parts = [f"file {self.config_file}" if self.config_file else "no config file"]
        if environment := named("variable"):
            parts.append("environment " + ", ".join(environment))
        if options := named("option"):
            parts.append("options " + " ".join(options))
        return "; ".join(parts)

    def environment(self) -> dict[str, str]:
        """The DEALCOACH_* variables that make `Settings.from_env()` in a worker equal `self.settings`."""
        s = self.settings
        exported = {
            "DEALCOACH_PLAYBOOK": s.playbook_dir or "", "DEALCOACH_MAPPINGS": s.mapping_dir or "",
            "DEALCOACH_WARM_UP_DEAL": s.warm_up_deal, "DEALCOACH_CRM_CONFIG": s.crm_config or "",
            "DEALCOACH_PUBLIC_URL": s.public_url or "", "DEALCOACH_STORE": s.store or "",
        }
        for key in ("max_body_bytes", "max_batch", "timeout_seconds", "work_threads", "work_queue", "log_format",
                    "access_log", "metrics", "public_metrics"):
            exported[_spec(key).variable] = str(getattr(s, key)).lower() if isinstance(getattr(s, key), bool) else str(getattr(s, key))
        if s.token is not None:
            exported[TOKEN_VARIABLE] = s.token
        if s.webhook_token is not None:
            exported[WEBHOOK_TOKEN_VARIABLE] = s.webhook_token
        return exported


def _spec(key: str) -> Spec:
    return next(spec for spec in SPECS if spec.key == key)


class _ConfigLoader(BoundedSafeLoader):
    """A safe YAML loader for a flat settings file: shallow, small, no aliases."""

    max_depth = 4
    max_nodes = 1_000
    allow_aliases = False


def read_config_file(path: str, source: str) -> dict[str, Any]:
    """The settings in a YAML config file: a mapping of known keys. SettingError naming the file otherwise."""
    try:
        with open_for_reading(path) as handle:
            raw = handle.read(MAX_CONFIG_FILE + 1)
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise SettingError(f"cannot read the config file {path} ({source}): {getattr(error, 'strerror', None) or error}") from None
    if len(raw) > MAX_CONFIG_FILE:
        raise SettingError(f"config file {path}: larger than {MAX_CONFIG_FILE:,} bytes; it holds a few settings")
    try:
        repeated = repeated_key(text)
        data = yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 - a safe loader with bounds
    except (yaml.YAMLError, ValueError) as error:  # ValueError: too deep, too many values, an alias
        reason = " ".join(str(error).split())
        raise SettingError(f"config file {path}: not a valid YAML settings file: {reason}") from None
    if repeated is not None:
        raise SettingError(f"config file {path}: line {repeated[0]}: {repeated[1]!r} is set twice; set each key once")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingError(f"config file {path}: expected a mapping of settings (key: value), got {type(data).__name__}")
    unknown = [str(k) for k in data if k not in KEYS]
    if unknown:
        hint = "; the token itself belongs in the token file or DEALCOACH_API_TOKEN" if "token" in unknown else ""
        raise SettingError(f"config file {path}: {unknown[0]}: not a setting{hint}; allowed keys: {', '.join(KEYS)}")
    return data


def resolve(options: Mapping[str, Any], env: Mapping[str, str]) -> Configuration:
    """Every setting by one precedence order: option (a value other than None in `options`, by key) > its
    environment variable > the config file (options["config"] or DEALCOACH_CONFIG) > default.

    The bearer token: --token-file > DEALCOACH_API_TOKEN > the file's token_file. SettingError (TokenError for the
    token) names the source of a bad value."""
    config_file, config_source = options.get("config"), "--config"
    if config_file is None and env.get(CONFIG_VARIABLE):
        config_file, config_source = env[CONFIG_VARIABLE], CONFIG_VARIABLE
    written = read_config_file(str(config_file), config_source) if config_file is not None else {}
    folder = Path(str(config_file)).parent if config_file is not None else Path()
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in SPECS:
        if options.get(spec.key) is not None:
            raw, source, where = options[spec.key], f"option {spec.option}", spec.option
        elif spec.variable and env.get(spec.variable, "").strip():
            raw, source, where = env[spec.variable], f"variable {spec.variable}", spec.variable
        elif spec.key in written:
            raw, source, where = written[spec.key], f"file {config_file}", f"{config_file}: {spec.key}"
            if spec.key in _PATHS and isinstance(raw, str) and raw.strip():
                raw = str(folder / raw.strip())
            elif spec.key == "store" and isinstance(raw, str) and raw.strip() not in ("", "default") and "://" not in raw:
                raw = str(folder / raw.strip())  # a SQLite file named in the config file: beside it
        else:
            values[spec.key] = spec.default
            sources[spec.key] = "default"
            continue
        try:
            values[spec.key] = spec.check(raw)
        except ValueError as error:
            raise SettingError(f"{where}: {error}; allowed: {spec.allowed}") from None
        sources[spec.key] = source
    token = _token(options, env, values, sources)
    webhook_token = bearer_token(env[WEBHOOK_TOKEN_VARIABLE], WEBHOOK_TOKEN_VARIABLE) if WEBHOOK_TOKEN_VARIABLE in env else None  # set: a token
    settings = Settings(
        playbook_dir=values["playbook"], mapping_dir=values["mappings"], token=token, webhook_token=webhook_token,
        **{f.name: values[f.name] for f in fields(Settings) if f.name in values},
    )
    return Configuration(
        settings=settings, host=values["host"], port=values["port"], workers=values["workers"], no_auth=values["no_auth"],
        config_file=str(config_file) if config_file is not None else None, sources=sources,
    )


def _token(options: Mapping[str, Any], env: Mapping[str, str], values: dict[str, Any], sources: dict[str, str]) -> str | None:
    """The bearer token: a token file named by option, else DEALCOACH_API_TOKEN (set, even empty), else a token file
    named in the config file."""
    if options.get("token_file") is not None:
        return read_token_file(values["token_file"])
    if TOKEN_VARIABLE in env:
        sources["token"] = f"variable {TOKEN_VARIABLE}"
        return bearer_token(env[TOKEN_VARIABLE], TOKEN_VARIABLE)
    if values["token_file"] is not None:
        return read_token_file(values["token_file"], f"{sources['token_file'].split(' ', 1)[1]}: token_file")
    return None
