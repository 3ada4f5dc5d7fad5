"""Where each CRM's API is and how dealcoach signs in: a connections file and DEALCOACH_<CRM>_* variables.

A connections file (YAML; `--crm-config FILE`, else $DEALCOACH_CRM_CONFIG, else ~/.config/dealcoach/crm.yaml):

    salesforce:
      url: https://acme.my.salesforce.com
      token_env: SALESFORCE_ACCESS_TOKEN        # or token: ... (an OAuth access token)
      multi_currency: false                     # query CurrencyIsoCode (multi-currency orgs only)
    hubspot:
      url: https://api.hubapi.com               # the default
      token_env: HUBSPOT_PRIVATE_APP_TOKEN
      client_secret_env: HUBSPOT_CLIENT_SECRET  # verifies the X-HubSpot-Signature-v3 of webhooks
    odoo:
      url: https://acme.odoo.com
      db: acme
      uid: 2                                    # the API user's id
      password_env: ODOO_API_KEY                # its API key (or password)

Each value may instead come from DEALCOACH_<CRM>_URL, _TOKEN, _CLIENT_SECRET, _DB, _UID, _PASSWORD, which
win over the file. Secrets are never taken from the command line. A URL must be https (plain http only to
this machine, for a local test server).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..engine.errors import DealcoachError
from ..engine.loading import read_document
from ..engine.user_files import config_file as user_config_file
from ..engine.user_files import secure_url

CONFIG_VARIABLE = "DEALCOACH_CRM_CONFIG"
DEFAULT_FILE = Path("~/.config/dealcoach/crm.yaml")
DEFAULT_URLS = {"hubspot": "https://api.hubapi.com"}


class CrmConnectionError(DealcoachError):
    """A CRM connection that cannot be used: its file invalid, its URL unsafe, a credential missing (exit 2)."""

    exit_code = 2


class ConnectionSpec(BaseModel):
    """One CRM as written in the connections file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str | None = None
    token: str | None = None
    token_env: str | None = None
    client_secret: str | None = None
    client_secret_env: str | None = None
    db: str | None = None
    uid: int | None = Field(default=None, ge=1)
    password: str | None = None
    password_env: str | None = None
    multi_currency: bool = False
    timeout_seconds: float = Field(default=20.0, gt=0, le=300)


class ConnectionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    salesforce: ConnectionSpec | None = None
    hubspot: ConnectionSpec | None = None
    odoo: ConnectionSpec | None = None


@dataclass(frozen=True)
class Connection:
    """A usable CRM connection. Its repr shows no secret."""

    crm: str
    url: str
    token: str | None = None
    client_secret: str | None = None
    db: str | None = None
    uid: int | None = None
    password: str | None = None
    multi_currency: bool = False
    timeout_seconds: float = 20.0

    def __repr__(self) -> str:
        return f"Connection({self.crm!r}, {self.url!r})"


def config_file(path: str | None) -> Path | None:
    """The connections file to read: the one given, $DEALCOACH_CRM_CONFIG, or the default when it exists."""
    return user_config_file(path, CONFIG_VARIABLE, DEFAULT_FILE)


def _spec(crm: str, path: Path | None) -> ConnectionSpec:
    if path is None:
        return ConnectionSpec()
    try:
        spec = getattr(ConnectionsFile.model_validate(read_document(str(path))), crm)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise CrmConnectionError(f"CRM connections file {path}: {problems}") from None
    except DealcoachError as error:
        raise CrmConnectionError(f"CRM connections file {path}: {error}") from None
    return spec or ConnectionSpec()


def _variable(crm: str, key: str) -> str:
    """The environment variable holding `key` of `crm`'s connection: DEALCOACH_HUBSPOT_CLIENT_SECRET."""
    return f"DEALCOACH_{crm.upper()}_{key.upper()}"


def _from_environment(crm: str, key: str) -> str | None:
    return os.environ.get(_variable(crm, key), "").strip() or None


def _secret(crm: str, key: str, value: str | None, variable: str | None) -> str | None:
    """A credential: DEALCOACH_<CRM>_<KEY>, else the file's `<key>_env` variable, else the file's value."""
    own = _from_environment(crm, key)
    if own:
        return own
    if variable:
        found = os.environ.get(variable, "").strip()
        if not found:
            raise CrmConnectionError(f"{crm}: the environment variable {variable} (its {key.replace('_', ' ')}) is not set or empty")
        return found
    return value


def connection(crm: str, path: str | None = None, *, needs: tuple[str, ...] = ("url",)) -> Connection:
    """The connection to `crm` from the connections file and the environment; CrmConnectionError says what is missing."""
    source = config_file(path)
    spec = _spec(crm, source)
    url = (_from_environment(crm, "url") or spec.url or DEFAULT_URLS.get(crm) or "").rstrip("/")
    uid_text = _from_environment(crm, "uid")
    try:
        uid = int(uid_text) if uid_text else spec.uid
    except ValueError:
        raise CrmConnectionError(f"{crm}: {_variable(crm, 'uid')} must be the API user's numeric id, got {uid_text!r}") from None
    found = Connection(
        crm=crm, url=url,
        token=_secret(crm, "token", spec.token, spec.token_env),
        client_secret=_secret(crm, "client_secret", spec.client_secret, spec.client_secret_env),
        db=_from_environment(crm, "db") or spec.db, uid=uid,
        password=_secret(crm, "password", spec.password, spec.password_env),
        multi_currency=spec.multi_currency, timeout_seconds=spec.timeout_seconds,
    )
    required = {"salesforce": ("url", "token"), "hubspot": ("url", "token"), "odoo": ("url", "db", "uid", "password")}.get(crm, ())
    missing = [key for key in dict.fromkeys((*required, *needs)) if not getattr(found, key)]
    if missing:
        where = f"the connections file {source}" if source else f"a connections file ($DEALCOACH_CRM_CONFIG or {DEFAULT_FILE})"
        variables = ", ".join(_variable(crm, key) for key in missing)
        raise CrmConnectionError(f"{crm}: no {', '.join(missing)}: set {variables}, or write them in {where}")
    if not secure_url(found.url):
        raise CrmConnectionError(f"{crm}: the URL must be https:// (credentials travel with every request), got {found.url!r}")
    return found
