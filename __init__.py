"""dealcoach — rules-based deal coaching for complex B2B key-account sales (中文 / English).

    import dealcoach
    report = dealcoach.review("deal.yaml")                 # or a dict, or a Deal
    print(dealcoach.render_text(report, lang="zh"))
    result = dealcoach.gate("deal.yaml", to="bidding")
    result.allowed
    change = dealcoach.what_if("deal.yaml", {"contacts": [{"id": "wang", "coach_conditions": {"wants_us_to_win": True}}]})
    [f.code for f in change.cleared]
"""

from .engine.api import (
    brief,
    changes,
    gate,
    load_deal,
    load_playbook,
    render,
    render_text,
    review,
    what_if,
)
from .engine.errors import DealcoachError, DealInputError, PlaybookError, RuleError
from .engine.model import Deal
from .engine.report import Changes, Finding, GateResult, Report, WhatIfResult

from .engine.version import VERSION as __version__

__all__ = [
    "Changes",
    "Deal",
    "DealInputError",
    "DealcoachError",
    "Finding",
    "GateResult",
    "PlaybookError",
    "Report",
    "RuleError",
    "__version__",
    "brief",
    "changes",
    "gate",
    "load_deal",
    "load_playbook",
    "render",
    "render_text",
    "review",
    "what_if",
    "WhatIfResult",
]
