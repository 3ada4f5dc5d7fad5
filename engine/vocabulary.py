"""Closed vocabularies of a deal record, each accepting English and Chinese spellings.

Every enum has canonical English values (what JSON output and rules use) and a
table of accepted input spellings, so a rep may type `教练` or `coach`,
`决策人` or `Decision Maker`. Display labels live in the playbook's term tables,
not here: this module is only about reading input.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, TypeVar

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError


class Role(StrEnum):
    """Buying role in the customer's buying centre (M3.1)."""

    DECISION_MAKER = "decision_maker"
    TECHNICAL_GATEKEEPER = "technical_gatekeeper"
    PURCHASER = "purchaser"
    USER = "user"
    OPINION_LEADER = "opinion_leader"
    PROCUREMENT_ORGANISER = "procurement_organiser"


class PowerCircle(StrEnum):
    """How much a person can move the outcome (M3.3), weakest first; `unknown` = not found out yet."""

    UNAWARE = "unaware"
    WATCHER = "watcher"
    POLITICAL = "political"
    CORE = "core"
    UNKNOWN = "unknown"


class Stance(StrEnum):
    """Where a person stands toward us."""

    SUPPORTS = "supports"
    NEUTRAL = "neutral"
    OPPOSES = "opposes"
    UNKNOWN = "unknown"


class SupporterKind(StrEnum):
    """The three kinds of supporter inside the customer (M4)."""

    INSIDER = "insider"
    SPONSOR = "sponsor"
    COACH = "coach"


class CoachCaveat(StrEnum):
    """Relationships that look like coaching but are not (M4.5)."""

    PREVIOUS_DEAL_COACH = "previous_deal_coach"
    PERSONAL_FRIEND = "personal_friend"
    PUBLIC_INFORMATION_ONLY = "public_information_only"
    OWN_AGENDA = "own_agenda"


class BrainQuadrant(StrEnum):
    """Herrmann whole-brain quadrant (M8)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class BudgetEvidence(StrEnum):
    """What a budget figure rests on (M5.5), strongest first; `unknown` = not recorded."""

    CUSTOMER_DOCUMENT = "customer_document"
    CUSTOMER_STATEMENT = "customer_statement"
    OUR_ESTIMATE = "our_estimate"
    NONE = "none"
    UNKNOWN = "unknown"


class ShapedBy(StrEnum):
    """Who shaped the customer's purchase objective (M5.2)."""

    US = "us"
    COMPETITOR = "competitor"
    NOBODY = "nobody"
    UNKNOWN = "unknown"


class DecisionMode(StrEnum):
    """How the customer decides (M3.5)."""

    ONE_PERSON = "one_person"
    COLLECTIVE = "collective"
    MIXED = "mixed"
    UNKNOWN = "unknown"


class CollectiveRule(StrEnum):
    """The voting rule of a collective decision (M3.5)."""

    UNANIMITY = "unanimity"
    MAJORITY = "majority"
    DOMINANT = "dominant"


class Solution(StrEnum):
    """Whether what we sell is standard or customised (M2.1: enter early for the latter)."""

    STANDARD = "standard"
    CUSTOMISED = "customised"


class CustomerState(StrEnum):
    """Where the customer stands on buying (M6.4); each state implies a grade."""

    SELECTING_SUPPLIER = "selecting_supplier"
    NEW_DEMAND = "new_demand"
    WAITING_ON_DECISION = "waiting_on_decision"
    INCUMBENT_FAILING = "incumbent_failing"
    NO_URGENCY = "no_urgency"
    HOPEFUL_ABOUT_INCUMBENT = "hopeful_about_incumbent"
    NO_NEED = "no_need"
    SATISFIED_WITH_INCUMBENT = "satisfied_with_incumbent"
    SIGNED_ELSEWHERE = "signed_elsewhere"


# The grade each customer state implies (M6.4): 0 = A (within 6 months) ... 3 = D (beyond 18 months).
STATE_GRADE_RANK: dict[CustomerState, int] = {
    CustomerState.SELECTING_SUPPLIER: 0, CustomerState.NEW_DEMAND: 0,
    CustomerState.WAITING_ON_DECISION: 1, CustomerState.INCUMBENT_FAILING: 1,
    CustomerState.NO_URGENCY: 2, CustomerState.HOPEFUL_ABOUT_INCUMBENT: 2,
    CustomerState.NO_NEED: 3, CustomerState.SATISFIED_WITH_INCUMBENT: 3, CustomerState.SIGNED_ELSEWHERE: 3,
}


class Credit(StrEnum):
    """The customer's financial status and credit (M6.3)."""

    GOOD = "good"
    WATCH = "watch"
    POOR = "poor"


class Relationship(StrEnum):
    """Our relationship with the customer organisation (M7.2)."""

    OUTSIDER = "outsider"
    FRIEND = "friend"
    SUPPLIER = "supplier"
    PARTNER = "partner"


class RelationshipLevel(StrEnum):
    """How deep the relationship goes (M7.3): 1 rests on price, 2 on personalised service, 3 on mutual dependence."""

    PRICE = "price"
    SERVICE = "service"
    INTERDEPENDENT = "interdependent"


class AcceptanceStatus(StrEnum):
    """Where the customer's acceptance (验收) of the delivered project stands (M9.1, M9.2)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SIGNED = "signed"
    DISPUTED = "disputed"


class BidDecision(StrEnum):
    """Whether we decided to bid on a tender, after weighing our chances (M6.1, M6.2)."""

    BID = "bid"
    NO_BID = "no_bid"
    UNDECIDED = "undecided"


# Accepted input spellings besides the canonical value. English keys are
# compared after folding case, spaces and hyphens; Chinese keys exactly.
ALIASES: dict[type[StrEnum], dict[str, StrEnum]] = {
    Role: {
        "决策人": Role.DECISION_MAKER, "决策者": Role.DECISION_MAKER,
        "economic_buyer": Role.DECISION_MAKER, "dm": Role.DECISION_MAKER,
        "技术把关者": Role.TECHNICAL_GATEKEEPER, "技术人": Role.TECHNICAL_GATEKEEPER,
        "技术把关人": Role.TECHNICAL_GATEKEEPER, "technical_buyer": Role.TECHNICAL_GATEKEEPER,
        "购买人": Role.PURCHASER, "采购人员": Role.PURCHASER, "采购": Role.PURCHASER,
        "财务把关者": Role.PURCHASER, "财务": Role.PURCHASER, "finance": Role.PURCHASER,
        "使用人": Role.USER, "使用者": Role.USER, "用户": Role.USER,
        "意见领袖": Role.OPINION_LEADER,
        "采购组织者": Role.PROCUREMENT_ORGANISER, "procurement_organizer": Role.PROCUREMENT_ORGANISER,
    },
    PowerCircle: {
        "不明所以的人": PowerCircle.UNAWARE, "不明所以": PowerCircle.UNAWARE,
        "看着事情发生的人": PowerCircle.WATCHER, "旁观者": PowerCircle.WATCHER,
        "政治圈": PowerCircle.POLITICAL, "能让事情发生的人": PowerCircle.POLITICAL,
        "核心圈": PowerCircle.CORE, "掌控结果的人": PowerCircle.CORE,
        "不清楚": PowerCircle.UNKNOWN, "未知": PowerCircle.UNKNOWN,
    },
    Stance: {
        "支持": Stance.SUPPORTS, "支持我方": Stance.SUPPORTS, "support": Stance.SUPPORTS, "supportive": Stance.SUPPORTS,
        "中立": Stance.NEUTRAL,
        "反对": Stance.OPPOSES, "反对我方": Stance.OPPOSES, "oppose": Stance.OPPOSES, "opposed": Stance.OPPOSES,
        "未知": Stance.UNKNOWN, "态度不明": Stance.UNKNOWN, "不清楚": Stance.UNKNOWN,
    },
    SupporterKind: {
        "内线": SupporterKind.INSIDER, "赞助者": SupporterKind.SPONSOR,
        "支持者": SupporterKind.SPONSOR, "教练": SupporterKind.COACH,
    },
    CoachCaveat: {
        "上一单的教练": CoachCaveat.PREVIOUS_DEAL_COACH, "老教练": CoachCaveat.PREVIOUS_DEAL_COACH,
        "朋友": CoachCaveat.PERSONAL_FRIEND, "私人朋友": CoachCaveat.PERSONAL_FRIEND,
        "公开信息提供者": CoachCaveat.PUBLIC_INFORMATION_ONLY,
        "内部推销者": CoachCaveat.OWN_AGENDA, "为私利推动": CoachCaveat.OWN_AGENDA,
    },
    BrainQuadrant: {"a": BrainQuadrant.A, "b": BrainQuadrant.B, "c": BrainQuadrant.C, "d": BrainQuadrant.D},
    BudgetEvidence: {
        "客户文件": BudgetEvidence.CUSTOMER_DOCUMENT, "客户书面文件": BudgetEvidence.CUSTOMER_DOCUMENT,
        "客户口头": BudgetEvidence.CUSTOMER_STATEMENT, "客户说的": BudgetEvidence.CUSTOMER_STATEMENT,
        "我方估计": BudgetEvidence.OUR_ESTIMATE, "我们估计": BudgetEvidence.OUR_ESTIMATE,
        "无": BudgetEvidence.NONE, "没有": BudgetEvidence.NONE,
        "不清楚": BudgetEvidence.UNKNOWN, "未知": BudgetEvidence.UNKNOWN,
    },
    ShapedBy: {
        "我方": ShapedBy.US, "我们": ShapedBy.US, "竞争对手": ShapedBy.COMPETITOR,
        "无人": ShapedBy.NOBODY, "没有人": ShapedBy.NOBODY, "不清楚": ShapedBy.UNKNOWN, "未知": ShapedBy.UNKNOWN,
    },
    DecisionMode: {
        "一人决策": DecisionMode.ONE_PERSON, "个人决策": DecisionMode.ONE_PERSON,
        "集体决策": DecisionMode.COLLECTIVE, "混合决策": DecisionMode.MIXED,
        "不清楚": DecisionMode.UNKNOWN, "未知": DecisionMode.UNKNOWN,
    },
    CollectiveRule: {
        "一致同意": CollectiveRule.UNANIMITY, "全票通过": CollectiveRule.UNANIMITY,
        "少数服从多数": CollectiveRule.MAJORITY, "多数表决": CollectiveRule.MAJORITY,
        "强势方决定": CollectiveRule.DOMINANT, "强势方说了算": CollectiveRule.DOMINANT,
    },
    Solution: {
        "标准": Solution.STANDARD, "标准产品": Solution.STANDARD,
        "定制": Solution.CUSTOMISED, "非标": Solution.CUSTOMISED, "customized": Solution.CUSTOMISED,
    },
    CustomerState: {
        "正在选供应商": CustomerState.SELECTING_SUPPLIER, "已签约客户有新需求": CustomerState.NEW_DEMAND,
        "等待某事落定": CustomerState.WAITING_ON_DECISION, "现供应商问题不断": CustomerState.INCUMBENT_FAILING,
        "没有紧迫感": CustomerState.NO_URGENCY, "对现供应商仍抱希望": CustomerState.HOPEFUL_ABOUT_INCUMBENT,
        "没有需求": CustomerState.NO_NEED, "对现供应商满意": CustomerState.SATISFIED_WITH_INCUMBENT,
        "刚与别家签约": CustomerState.SIGNED_ELSEWHERE,
    },
    Credit: {"良好": Credit.GOOD, "需关注": Credit.WATCH, "差": Credit.POOR},
    Relationship: {
        "局外人": Relationship.OUTSIDER, "朋友": Relationship.FRIEND,
        "供应商": Relationship.SUPPLIER, "合作伙伴": Relationship.PARTNER,
    },
    RelationshipLevel: {
        "1": RelationshipLevel.PRICE, "一级": RelationshipLevel.PRICE, "靠价格": RelationshipLevel.PRICE,
        "2": RelationshipLevel.SERVICE, "二级": RelationshipLevel.SERVICE, "个性化服务": RelationshipLevel.SERVICE,
        "3": RelationshipLevel.INTERDEPENDENT, "三级": RelationshipLevel.INTERDEPENDENT, "互相依赖": RelationshipLevel.INTERDEPENDENT,
    },
    AcceptanceStatus: {
        "未开始": AcceptanceStatus.NOT_STARTED, "验收中": AcceptanceStatus.IN_PROGRESS,
        "已签署": AcceptanceStatus.SIGNED, "已验收": AcceptanceStatus.SIGNED, "有争议": AcceptanceStatus.DISPUTED,
    },
    BidDecision: {"投标": BidDecision.BID, "不投": BidDecision.NO_BID, "放弃": BidDecision.NO_BID, "未定": BidDecision.UNDECIDED},
}

# What each vocabulary is called in an error message.
NOUNS: dict[type[StrEnum], str] = {
    Role: "buying role", PowerCircle: "power circle", Stance: "stance",
    SupporterKind: "supporter kind", CoachCaveat: "coach caveat", BrainQuadrant: "whole-brain quadrant",
    BudgetEvidence: "kind of budget evidence", ShapedBy: "requirement shaper",
    DecisionMode: "decision mode", CollectiveRule: "collective decision rule", Solution: "solution kind",
    CustomerState: "customer state", Credit: "credit rating", Relationship: "relationship type",
    RelationshipLevel: "relationship level", AcceptanceStatus: "acceptance status", BidDecision: "bid decision",
}

E = TypeVar("E", bound=StrEnum)


def fold(text: str) -> str:
    """Fold an English spelling so that `Decision Maker`, `decision-maker` and `decision_maker` agree."""
    return "_".join(text.strip().lower().replace("-", " ").split())


def allowed_spellings(enum_cls: type[StrEnum]) -> str:
    """`value (中文), ...` for an error message."""
    chinese: dict[StrEnum, str] = {}
    for spelling, member in ALIASES.get(enum_cls, {}).items():
        if not spelling.isascii():
            chinese.setdefault(member, spelling)
    return ", ".join(f"{member.value} ({chinese[member]})" if member in chinese else member.value for member in enum_cls)


def parse_term(enum_cls: type[E], raw: object) -> E:
    """Read one vocabulary value from any accepted spelling, or raise a specific error."""
    if isinstance(raw, enum_cls):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        for candidate in (text, fold(text)):
            try:
                return enum_cls(candidate)
            except ValueError:
                pass
            aliases = ALIASES.get(enum_cls, {})
            if candidate in aliases:
                return aliases[candidate]  # type: ignore[return-value]
    raise PydanticCustomError(
        "unknown_term",
        "{value} is not a {noun}; allowed: {allowed}",
        {"value": repr(raw), "noun": NOUNS[enum_cls], "allowed": allowed_spellings(enum_cls)},
    )


def spellings(enum_cls: type[StrEnum]) -> list[str]:
    """Every spelling of `enum_cls` a deal file may use, canonical values first (case and spacing variants of
    the English ones aside)."""
    return [member.value for member in enum_cls] + [alias for alias in ALIASES.get(enum_cls, {}) if alias not in set(enum_cls)]


def _description(enum_cls: type[StrEnum]) -> str:
    return f"A {NOUNS[enum_cls]}: {allowed_spellings(enum_cls)}. English values also in any case, with spaces or hyphens."


def term_list(enum_cls: type[E]) -> object:
    """A list of `enum_cls` values for pydantic (the model lets one value stand for a one-item list, and its JSON
    Schema says so)."""
    one = {"type": "string", "enum": spellings(enum_cls)}
    schema = {"anyOf": [{"type": "array", "items": one, "uniqueItems": True}, one], "description": f"One or more. {_description(enum_cls)}"}
    return Annotated[list[term(enum_cls)], WithJsonSchema(schema, mode="validation")]  # type: ignore[valid-type]


def term(enum_cls: type[E]) -> object:
    """An annotated type for pydantic that accepts every spelling of `enum_cls`; its JSON Schema lists them all,
    so an editor checking a deal file against `dealcoach schema` accepts `教练` as well as `coach`."""
    description = _description(enum_cls)
    return Annotated[
        enum_cls,
        BeforeValidator(lambda raw: parse_term(enum_cls, raw)),
        WithJsonSchema({"type": "string", "enum": spellings(enum_cls), "description": description}, mode="validation"),
        Field(description=description),
    ]
