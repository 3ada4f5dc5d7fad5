"""How one service process runs, and what a bearer token may be."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

TOKEN_VARIABLE = "DEALCOACH_API_TOKEN"
MIN_TOKEN_LENGTH = 16
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 b64token: what a client can send after "Bearer "
TOKEN_RULE = (
    f"a bearer token is at least {MIN_TOKEN_LENGTH} characters of A-Z a-z 0-9 - . _ ~ + / "
    "(and = only at the end), e.g. from: python -c \"import secrets; print(secrets.token_urlsafe(32))\""
)


class TokenError(ValueError):
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


@dataclass(frozen=True)
class Settings:
    """How one service process runs (environment variables DEALCOACH_* when started by `dealcoach serve`).

    `work_threads` evaluations run at once and `work_queue` more may wait; see service.limits.WorkPool.
    """

    playbook_dir: str | None = None
    mapping_dir: str | None = None
    token: str | None = None
    max_body_bytes: int = 1_000_000
    max_batch: int = 100
    timeout_seconds: float = 10.0
    work_threads: int = 4
    work_queue: int = 32

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from DEALCOACH_* variables; a DEALCOACH_API_TOKEN that is set must be a valid token."""
        env = os.environ
        token = env.get(TOKEN_VARIABLE)
        return cls(
            playbook_dir=env.get("DEALCOACH_PLAYBOOK") or None,
            mapping_dir=env.get("DEALCOACH_MAPPINGS") or None,
            token=None if token is None else bearer_token(token, TOKEN_VARIABLE),
            max_body_bytes=int(env.get("DEALCOACH_MAX_BODY_BYTES", cls.max_body_bytes)),
            max_batch=int(env.get("DEALCOACH_MAX_BATCH", cls.max_batch)),
            timeout_seconds=float(env.get("DEALCOACH_TIMEOUT_SECONDS", cls.timeout_seconds)),
        )
