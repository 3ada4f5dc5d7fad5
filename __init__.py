"""dealcoach — rules-based deal coaching for complex B2B key-account sales (中文 / English).

    import dealcoach
    report = dealcoach.review("deal.yaml")                 # or a dict, or a Deal
    print(dealcoach.render_text(report, lang="zh"))
    result = dealcoach.gate("deal.yaml", to="bidding")
    result.allowed
    change = dealcoach.what_if("deal.yaml", {"contacts": [{"id": "wang", "coach_conditions": {"wants_us_to_win": True}}]})
    [f.code for f in change.cleared]
"""

from importlib import import_module

from .engine.version import VERSION as __version__

# The public names and the module each lives in, imported on first use (PEP 562): `import dealcoach` stays
# cheap, and the command line can take Ctrl-C before the rule engine is loaded.
_EXPORTS = {
    "brief": "engine.api", "changes": "engine.api", "gate": "engine.api", "load_deal": "engine.api",
    "load_playbook": "engine.api", "render": "engine.api", "render_text": "engine.api", "review": "engine.api",
    "what_if": "engine.api",
    "DealcoachError": "engine.errors", "DealInputError": "engine.errors", "PlaybookError": "engine.errors", "RuleError": "engine.errors",
    "Deal": "engine.model",
    "Changes": "engine.report", "Finding": "engine.report", "GateResult": "engine.report", "Report": "engine.report",
    "WhatIfResult": "engine.report",
}

__all__ = [  # noqa: F822 - the names come from __getattr__
    "Changes", "Deal", "DealInputError", "DealcoachError", "Finding", "GateResult", "PlaybookError", "Report", "RuleError",
    "WhatIfResult", "__version__", "brief", "changes", "gate", "load_deal", "load_playbook", "render", "render_text", "review",
    "what_if",
]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
