"""One message per owner after a pipeline run: each of their deals with its first moves and blocking risks.

Built a deal at a time from the reviews (only the few lines each message needs are kept), rendered from the
playbook's layout `report/owner_digest.j2`, every word from the term table, sized for one group-chat message.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from .report import Report, Severity

UNOWNED = ""


class DealExcerpt(BaseModel):
    """What an owner's message says of one deal."""

    model_config = ConfigDict(frozen=True)
    name: str
    customer: str
    stage: str
    firsts: list[str]
    blocks: list[str]


def excerpt(report: Report, first_moves: int, lang: str) -> DealExcerpt:
    """The lines of a report localised in `lang` that an owner's message shows."""
    shown = [card for card in report.cards if not card.folded and card.text is not None]
    return DealExcerpt(
        name=report.deal_name,
        customer=report.customer,
        stage=report.stage.name[lang],
        firsts=[card.text.first for card in shown[:first_moves] if card.text.first],
        blocks=[card.text.title for card in shown if card.severity == Severity.BLOCK],
    )


class OwnerDigests:
    """Excerpts gathered per owner, in the order owners first appear."""

    def __init__(self) -> None:
        self.owners: dict[str, list[DealExcerpt]] = {}

    def add(self, owner: str | None, deal: DealExcerpt) -> None:
        self.owners.setdefault(owner or UNOWNED, []).append(deal)

    def ordered(self) -> list[tuple[str, list[DealExcerpt]]]:
        """Owners by the blocking risks in their deals (most first), then by name; their deals likewise."""
        def weight(deals: list[DealExcerpt]) -> int:
            return sum(len(d.blocks) for d in deals)

        ranked = sorted(self.owners.items(), key=lambda item: (-weight(item[1]), item[0]))
        return [(owner, sorted(deals, key=lambda d: (-len(d.blocks), d.name))) for owner, deals in ranked]
