"""Deal record → the normalised facts the rules match, plus where each fact field came from.

Facts carry only plain JSON types of one kind per field (durable-rules compares
strings and numbers silently wrongly): dates become day counts against
`as_of`, booleans that can be unknown become "yes" / "no" / "unknown" (absent
in the record = unknown, never "no"), unknown power ranks -1, lists stay lists
of canonical enum values. Nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .model import Contact, Deal
from .phases import Phase
from .playbook import STAGE_TAGS, StageModel
from .vocabulary import STATE_GRADE_RANK, CoachCaveat, PowerCircle, Role, SupporterKind

# Power circles as numbers for comparisons (M3.3). Unknown power is -1: below every known circle, so
# "at least a watcher" (rank >= 1) and "political or core" (rank >= 2) never hold for it; a rule that
# means "known to be weak" must test rank >= 0 as well.
POWER_RANK = {
    PowerCircle.UNKNOWN: -1,
    PowerCircle.UNAWARE: 0,
    PowerCircle.WATCHER: 1,
    PowerCircle.POLITICAL: 2,
    PowerCircle.CORE: 3,
}


def money(value: float) -> float:
    """An amount to the cent. The engine's JSON parser misreads exponent notation (1e-07), which
    Python writes for very small floats; money rounded to cents never needs it below 1e16."""
    return round(value, 2)


def tri_state(value: bool | None) -> str:
    """True / False / None as "yes" / "no" / "unknown"."""
    return "unknown" if value is None else ("yes" if value else "no")


class SourceTable:
    """Where each field of one kind of fact comes from: input paths; those starting with "." are relative to the
    fact's own path ("." alone is that path). The paths of each group of fields a rule reads are worked out once."""

    def __init__(self, table: Mapping[str, Iterable[str]]):
        self.table = {name: tuple(paths) for name, paths in table.items()}
        self._groups: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def group(self, field_names: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(absolute paths, relative suffixes) of the fields, each once."""
        found = self._groups.get(field_names)
        if found is None:
            paths = dict.fromkeys(path for name in field_names for path in self.table.get(name, ()))
            found = self._groups[field_names] = (
                tuple(path for path in paths if not path.startswith(".")),
                tuple("" if path == "." else path for path in paths if path.startswith(".")),
            )
        return found


@dataclass(slots=True)
class Sources:
    """Where each field of one fact came from: its kind's table, the relative paths under `prefix`."""

    table: SourceTable
    prefix: str = ""

    def get(self, field_name: str) -> list[str]:
        return self.paths((field_name,))

    def paths(self, field_names: tuple[str, ...]) -> list[str]:
        """The input paths of several fields."""
        absolute, relative = self.table.group(field_names)
        if not relative:
            return list(absolute)
        prefix = self.prefix
        return [*absolute, *(prefix + suffix for suffix in relative)]


@dataclass
class FactSet:
    """The facts of one evaluation, by id, and where each of their fields came from."""

    facts: list[dict] = field(default_factory=list)
    by_id: dict[str, dict] = field(default_factory=dict)
    provenance: dict[str, Sources] = field(default_factory=dict)

    def add(self, fact: dict, sources: Sources | Mapping[str, list[str]]) -> None:
        self.facts.append(fact)
        self.by_id[fact["id"]] = fact
        if not isinstance(sources, Sources):
            sources = Sources(SourceTable(sources))
        self.provenance[fact["id"]] = sources


@dataclass(frozen=True)
class Position:
    """Where the deal stands in its stage model."""

    model: StageModel
    stage_index: int
    step_index: int


def reached_milestones(deal: Deal, model: StageModel) -> set[str]:
    """Ids of the milestones the record lists as reached, whatever spelling it used."""
    return {found[1].id for spelling in deal.milestones if (found := model.find_milestone(spelling))}


def locate(deal: Deal, model: StageModel) -> Position:
    """Stage and buying-step indexes (the deal was checked against the model when loaded)."""
    stage_index = model.find_stage(deal.stage)
    step_index = model.find_step(deal.buying_step)
    assert stage_index is not None and step_index is not None, "deal not checked against its stage model"
    return Position(model, stage_index, step_index)


ROLES = tuple(role.value for role in Role)
SUPPORTER_KINDS = tuple(kind.value for kind in SupporterKind)
CAVEATS = tuple(caveat.value for caveat in CoachCaveat)
COACH_CONDITIONS = ("trusts_our_capability", "trusted_by_organisation", "wants_us_to_win")

# Where each contact-fact field comes from, relative to the contact's path.
CONTACT_SOURCES = SourceTable({
    **{name: (f".{name}",) for name in (
        "name", "title", "roles", "power", "stance", "supporter", "caveats", "shares_information",
        "avoids_conflict", "personal_interest_engaged", "active",
    )},
    **{f"role.{role}": (".roles",) for role in ROLES},
    **{f"marked.{kind}": (".supporter",) for kind in SUPPORTER_KINDS},
    **{f"caveat.{caveat}": (".caveats",) for caveat in CAVEATS},
    **{name: (f".coach_conditions.{name}",) for name in COACH_CONDITIONS},
    "cid": (".id",),
    "power_rank": (".power",),
    "has_caveat": (".caveats",),
    "has_role": (".roles",),
    "met": (".met", ".last_contact"),
    "has_last_contact": (".last_contact",),
    "days_since_contact": (".last_contact", "as_of"),
    "on_committee": ("decision.committee",),
    "customer_state_owned": ("customer.state_owned",),
})


DEAL_SOURCES = SourceTable({
    "amount": ["amount"],
    "stage_id": ["stage"],
    "phase": ["stage", "milestones"],
    "phase_rank": ["stage", "milestones"],
    "currency": ["currency"],
    "step_id": ["buying_step"],
    "stage_index": ["stage"],
    "step_index": ["buying_step"],
    "stage_lead": ["stage", "buying_step"],
    "days_in_stage": ["stage_entered", "as_of"],
    "has_stall_limit": ["stage", "stage_model"],
    "stall_days": ["stage", "stage_model"],
    "days_over_stall": ["stage_entered", "as_of", "stage_model"],
    **{f"step_tag.{tag}": ["buying_step", "stage_model"] for tag in STAGE_TAGS},
    "has_entry_step": ["entry_step"],
    **{f"entry_tag.{tag}": ["entry_step", "stage_model"] for tag in STAGE_TAGS},
    "solution": ["solution"],
    "state_owned": ["customer.state_owned"],
    "credit": ["customer.credit"],
    "relationship": ["customer.relationship"],
    "customer_state": ["customer_state"],
    "state_grade_rank": ["customer_state"],
    "has_close_date": ["expected_close"],
    "days_to_close": ["expected_close", "as_of"],
    "organisational_value_agreed": ["organisational_value_agreed"],
    "domestic": ["currency"],
    "competitors": ["competitors"],
    "incumbent_rival": ["competitors"],
    "has_differentiation": ["differentiation"],
    "relationship_level": ["customer.relationship_level"],
    "share_of_our_sales": ["customer.share_of_our_sales"],
    "payment_agreed": ["payment_terms.agreed"],
    "deposit_percent": ["payment_terms.deposit_percent"],
    "acceptance_criteria_agreed": ["payment_terms.acceptance_criteria_agreed"],
    "payment_signer_known": ["payment_terms.payment_signer_known"],
    "tender_public": ["tender.public"],
    "tender_published": ["tender.published"],
    "bid_decision": ["tender.bid_decision"],
    "accompanying_suspected": ["tender.accompanying_suspected"],
    "acceptance": ["implementation.acceptance"],
    "accepted": ["implementation.acceptance", "milestones"],
    "reference_agreed": ["implementation.reference_agreed"],
    "next_purchase_identified": ["implementation.next_purchase_identified"],
})

BUDGET_SOURCES = SourceTable({
    "has_amount": ["budget.amount"],
    "evidence": ["budget.evidence"],
    "plan_approved": ["budget.plan_approved"],
    "funds_in_place": ["budget.funds_in_place"],
})

OBJECTIVE_SOURCES = SourceTable({
    "has_who": ["objective.who"],
    "has_what": ["objective.what"],
    "has_how_much": ["objective.how_much"],
    "has_when": ["objective.when"],
    "confirmed_by_customer": ["objective.confirmed_by_customer"],
    "shaped_by": ["objective.shaped_by"],
    "meaning_agreed": ["objective.meaning_agreed"],
    "how_much_known": ["objective.how_much", "amount"],
    "when_known": ["objective.when", "expected_close"],
})

PRESSURE_SOURCES = SourceTable({
    "ultimatums": ["price_pressure.ultimatums"],
    "verified": ["price_pressure.verified"],
    "concession_requested": ["price_pressure.concession_requested"],
    "has_quote": ["negotiation.our_quote"],
    "has_walk_away": ["negotiation.walk_away"],
    "chosen_us": ["negotiation.chosen_us", "milestones"],
    "concessions": ["negotiation.concessions"],
    "concessions_unreciprocated": ["negotiation.concessions"],
    "conceded_total": ["negotiation.concessions"],
    "budget_covers_quote": ["budget.amount", "negotiation.our_quote", "amount"],
    "scope_may_change": ["negotiation.scope_may_change"],
})

COMPETITOR_SOURCES = SourceTable({
    "rid": (".",),
    "name": (".name",),
    "incumbent": (".incumbent",),
    "shaped_specs": (".shaped_specs",),
    "entered_late": (".entered_step", "stage_model"),
})
RECEIVABLE_SOURCES = SourceTable({
    "rid": (".",),
    "outstanding": (".amount", ".paid"),
    "partly_paid": (".paid",),
    "days_overdue": (".due", "as_of"),
})
MILESTONE_SOURCES = SourceTable({"mid": ("milestones",), "stage_index": ("stage_model",), "reached": ("milestones",)})
GATE_SOURCES = SourceTable({"to_index": ("to",), "to_id": ("to",), "to_lead": ("to", "buying_step")})
DECISION_SOURCES = SourceTable({
    "mode": ["decision.mode"],
    "rule": ["decision.rule"],
    "committee_size": ["decision.committee_size"],
    "majority_needed": ["decision.committee_size"],
    "last_purchase_known": ["decision.last_purchase_known"],
})


_TRI_STATE = {None: "unknown", True: "yes", False: "no"}


def _contact_fact(contact: Contact, deal: Deal, state_owned: str) -> dict:
    conditions = contact.coach_conditions
    role_values = [role.value for role in contact.roles]
    kind_values = [kind.value for kind in contact.supporter]
    caveats = [caveat.value for caveat in contact.caveats]
    return {
        "t": "contact",
        "id": f"contact:{contact.id}",
        "cid": contact.id,
        "name": contact.name,
        "title": contact.title or "",
        "roles": role_values,
        # One explicit true/false per vocabulary member: durable-rules' allItems
        # never matches an empty list, so list membership is not tested in rules.
        "role": {role: role in role_values for role in ROLES},
        "has_role": bool(role_values),
        "power": contact.power.value,
        "power_rank": POWER_RANK[contact.power],
        "stance": contact.stance.value,
        "supporter": kind_values,
        "marked": {kind: kind in kind_values for kind in SUPPORTER_KINDS},
        "trusts_our_capability": _TRI_STATE[conditions.trusts_our_capability],
        "trusted_by_organisation": _TRI_STATE[conditions.trusted_by_organisation],
        "wants_us_to_win": _TRI_STATE[conditions.wants_us_to_win],
        "caveats": caveats,
        "caveat": {caveat: caveat in caveats for caveat in CAVEATS},
        "has_caveat": bool(caveats),
        "shares_information": _TRI_STATE[contact.shares_information],
        "avoids_conflict": _TRI_STATE[contact.avoids_conflict],
        "personal_interest_engaged": contact.personal_interest_engaged,
        "met": _TRI_STATE[contact.contacted],
        "has_last_contact": contact.last_contact is not None,
        "days_since_contact": (deal.as_of - contact.last_contact).days if contact.last_contact else 0,
        "active": contact.active,
        "on_committee": contact.id in deal.decision.committee,
        # the customer's ownership on each contact: durable-rules cannot compare another fact's field with a constant
        "customer_state_owned": state_owned,
    }


def build_facts(deal: Deal, position: Position, gate_to: int | None = None) -> FactSet:
    """Every base fact of one evaluation; a `gate` fact when a stage gate is asked for."""
    facts = FactSet()
    model = position.model
    stage = model.stages[position.stage_index]
    step_tags = set(model.stages[position.step_index].tags)
    entry_index = model.find_step(deal.entry_step) if deal.entry_step else None
    entry_tags = set(model.stages[entry_index].tags) if entry_index is not None else set()
    days_in_stage = (deal.as_of - deal.stage_entered).days
    reached_ids = reached_milestones(deal, model)
    # the deal's phase as far as the record says (coaching also counts milestones the rules find implied)
    phase = Phase.AFTER_CONTRACT if model.any_reached(reached_ids, "signs_contract") else model.phase_of(position.stage_index)
    acceptance = deal.implementation.acceptance
    # signed acceptance: as recorded; when not recorded, a reached milestone that means it (signs_acceptance)
    if acceptance is not None:
        accepted = "yes" if acceptance == "signed" else "no"
    else:
        accepted = "yes" if model.any_reached(reached_ids, "signs_acceptance") else "unknown"
    facts.add(
        {
            "t": "deal",
            "id": "deal",
            "amount": money(deal.amount),
            "stage_id": stage.id,
            "phase": phase.value,
            "phase_rank": list(Phase).index(phase),
            "currency": deal.currency,
            "step_id": model.stages[position.step_index].buying_step.id,
            "stage_index": position.stage_index,
            "step_index": position.step_index,
            "stage_lead": position.stage_index - position.step_index,
            "days_in_stage": days_in_stage,
            "has_stall_limit": stage.stall_days is not None,
            "stall_days": stage.stall_days or 0,
            "days_over_stall": days_in_stage - stage.stall_days if stage.stall_days else 0,
            "step_tag": {tag: tag in step_tags for tag in STAGE_TAGS},
            "has_entry_step": entry_index is not None,
            "entry_tag": {tag: tag in entry_tags for tag in STAGE_TAGS},
            "solution": deal.solution.value,
            "state_owned": tri_state(deal.customer.state_owned),
            "credit": deal.customer.credit.value if deal.customer.credit else "unknown",
            "relationship": deal.customer.relationship.value if deal.customer.relationship else "unknown",
            "customer_state": deal.customer_state.value if deal.customer_state else "unknown",
            "state_grade_rank": STATE_GRADE_RANK[deal.customer_state] if deal.customer_state else -1,
            "has_close_date": deal.expected_close is not None,
            "days_to_close": (deal.expected_close - deal.as_of).days if deal.expected_close else 0,
            "organisational_value_agreed": tri_state(deal.organisational_value_agreed),
            "domestic": deal.currency == "CNY",  # a Chinese deal: state-ownership practice (M2.4) applies
            # competition (M5.2): how many rivals, an incumbent among them, our differentiation worked out
            "competitors": len(deal.competitors),
            "incumbent_rival": any(c.incumbent for c in deal.competitors),
            "has_differentiation": deal.differentiation is not None,
            # relationship (M7.3) and our dependence on this customer
            "relationship_level": deal.customer.relationship_level.value if deal.customer.relationship_level else "unknown",
            "share_of_our_sales": money(deal.customer.share_of_our_sales) if deal.customer.share_of_our_sales is not None else -1.0,
            # payment terms (M9.1)
            "payment_agreed": tri_state(deal.payment_terms.agreed),
            "deposit_percent": money(deal.payment_terms.deposit_percent) if deal.payment_terms.deposit_percent is not None else -1.0,
            "acceptance_criteria_agreed": tri_state(deal.payment_terms.acceptance_criteria_agreed),
            "payment_signer_known": tri_state(deal.payment_terms.payment_signer_known),
            # the tender
            "tender_public": tri_state(deal.tender.public),
            "tender_published": tri_state(deal.tender.published),
            "bid_decision": deal.tender.bid_decision.value if deal.tender.bid_decision else "unknown",
            "accompanying_suspected": tri_state(deal.tender.accompanying_suspected),
            # after the contract (M9)
            "acceptance": deal.implementation.acceptance.value if deal.implementation.acceptance else "unknown",
            "accepted": accepted,
            "reference_agreed": tri_state(deal.implementation.reference_agreed),
            "next_purchase_identified": tri_state(deal.implementation.next_purchase_identified),
        },
        Sources(DEAL_SOURCES),
    )
    budget = deal.budget
    facts.add(
        {
            "t": "budget",
            "id": "budget",
            "has_amount": budget.amount is not None,
            "evidence": budget.evidence.value,
            "plan_approved": tri_state(budget.plan_approved),
            "funds_in_place": tri_state(budget.funds_in_place),
        },
        Sources(BUDGET_SOURCES),
    )
    objective = deal.objective
    facts.add(
        {
            "t": "objective",
            "id": "objective",
            "has_who": objective.who is not None,
            "has_what": objective.what is not None,
            "has_how_much": objective.how_much is not None,
            "has_when": objective.when is not None,
            "confirmed_by_customer": tri_state(objective.confirmed_by_customer),
            "shaped_by": objective.shaped_by.value,
            "meaning_agreed": tri_state(objective.meaning_agreed),
            # the deal record answers "how much" and "when" when the objective does not (M5.1)
            "how_much_known": objective.how_much is not None or deal.amount > 0,
            "when_known": objective.when is not None or deal.expected_close is not None,
        },
        Sources(OBJECTIVE_SOURCES),
    )
    pressure = deal.price_pressure
    negotiation = deal.negotiation
    chosen_by_milestone = model.any_reached(reached_ids, "chooses_us")
    quote = negotiation.our_quote if negotiation.our_quote is not None else deal.amount
    facts.add(
        {
            "t": "pressure",
            "id": "pressure",
            "ultimatums": pressure.ultimatums,
            "verified": pressure.verified,
            "concession_requested": pressure.concession_requested,
            # the negotiation (M7.5, M7.3): our quote and floor, the customer's choice, what we already gave
            "has_quote": negotiation.our_quote is not None,
            "has_walk_away": negotiation.walk_away is not None,
            # recorded, or shown by a milestone that means the customer chose us (award, preferred supplier)
            "chosen_us": "yes" if chosen_by_milestone else tri_state(negotiation.chosen_us),
            "concessions": len(negotiation.concessions),
            "concessions_unreciprocated": sum(1 for c in negotiation.concessions if c.gained is None),
            "conceded_total": money(sum(c.amount for c in negotiation.concessions)),
            "budget_covers_quote": tri_state(None if budget.amount is None else budget.amount >= quote),
            "scope_may_change": tri_state(negotiation.scope_may_change),
        },
        Sources(PRESSURE_SOURCES),
    )
    for index, competitor in enumerate(deal.competitors):
        path = f"competitors[{index}]"
        entered = model.find_step(competitor.entered_step) if competitor.entered_step else None
        facts.add(
            {
                "t": "competitor",
                "id": f"competitor:{index}",
                "rid": str(index),
                "name": competitor.name,
                "incumbent": competitor.incumbent,
                "shaped_specs": tri_state(competitor.shaped_specs),
                # entered once the requirements were fixed (a late rival, M2.1); unknown when not recorded
                "entered_late": tri_state(None if entered is None else "specs_fixed" in model.stages[entered].tags),
            },
            Sources(COMPETITOR_SOURCES, path),
        )
    for index, receivable in enumerate(deal.receivables):
        path = f"receivables[{index}]"
        facts.add(
            {
                "t": "receivable",
                "id": f"receivable:{index}",
                "rid": str(index),
                "outstanding": money(receivable.amount - receivable.paid),
                "partly_paid": 0 < receivable.paid < receivable.amount,
                "days_overdue": (deal.as_of - receivable.due).days,
            },
            Sources(RECEIVABLE_SOURCES, path),
        )
    state_owned = tri_state(deal.customer.state_owned)
    for index, contact in enumerate(deal.contacts):
        facts.add(_contact_fact(contact, deal, state_owned), Sources(CONTACT_SOURCES, f"contacts[{index}]"))
    decision = deal.decision
    size = decision.committee_size or 0
    facts.add(
        {
            "t": "decision",
            "id": "decision",
            "mode": decision.mode.value,
            "rule": decision.rule.value if decision.rule else "none",
            "committee_size": size,
            "majority_needed": size // 2 + 1 if size else 0,
            "last_purchase_known": decision.last_purchase_known,
        },
        Sources(DECISION_SOURCES),
    )
    for stage_index, stage in enumerate(model.stages):
        for milestone in stage.milestones:
            facts.add(
                {
                    "t": "milestone",
                    "id": f"milestone:{milestone.id}",
                    "mid": milestone.id,
                    "stage_index": stage_index,
                    "reached": milestone.id in reached_ids,
                },
                Sources(MILESTONE_SOURCES),
            )
    if gate_to is not None:
        facts.add(
            {
                "t": "gate",
                "id": "gate",
                "to_index": gate_to,
                "to_id": model.stages[gate_to].id,
                "to_lead": gate_to - position.step_index,
            },
            Sources(GATE_SOURCES),
        )
    return facts
