"""The phases of a sale (whatever a stage model calls its stages) and the topics a finding is about."""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """Where a deal stands in the sale, whatever the stage model calls its stages (M2.1, M2.2).

    Each stage of a stage model belongs to one phase; a rule declares the phases
    its advice is right for, and is not shown outside them.
    """

    QUALIFY = "qualify"  # 开发 / 线索确认: is it real, is it ours, grade it
    ENTRY = "entry"  # 销售进入 / 需求培育: map the organisation, build relationships, need and funds
    PROPOSAL = "proposal"  # 提案 / 方案评估: influence the specs, deliver the solution
    BIDDING = "bidding"  # 投标: the bid, clarifications, the votes
    NEGOTIATION = "negotiation"  # 商务谈判 (and 签订合同 before signing): price, terms, payment, signing
    AFTER_CONTRACT = "after_contract"  # 工程实施: delivery, acceptance, collection, the next purchase


class Topic(StrEnum):
    """What a finding is about, for ranking by the stage's focus and the meeting's purpose."""

    PROCESS = "process"
    PEOPLE = "people"
    SUPPORTERS = "supporters"
    OBJECTIVE = "objective"
    BUDGET = "budget"
    QUALIFICATION = "qualification"
    COMPETITION = "competition"
    TENDER = "tender"
    PRICE = "price"
    PAYMENT = "payment"
    RELATIONSHIP = "relationship"
    DELIVERY = "delivery"
