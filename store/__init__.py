"""The decision log: every review and gate with the deal as evaluated and the rule set that judged it,
pipeline runs, and how deals ended (SQLite by default, PostgreSQL for teams)."""

from .log import STORE_VARIABLE, Store, StoreError, default_path, open_store, shown_url, store_url
from .records import Decision, LoggedFinding, Outcome, Run, decision_of

__all__ = ["STORE_VARIABLE", "Decision", "LoggedFinding", "Outcome", "Run", "Store", "StoreError", "decision_of", "default_path",
           "open_store", "shown_url", "store_url"]
