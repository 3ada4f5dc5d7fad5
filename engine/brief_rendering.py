"""Rendering the pre-meeting brief: printable HTML (A4, one page), Markdown for group chats, JSON.

Everything the templates show is localised here into plain strings (the
templates compare nothing); the HTML template is the playbook's
`templates/brief/brief.html.j2`, rendered sandboxed with HTML autoescaping.
"""

from __future__ import annotations

import json

from . import template_sandbox
from .brief import PURPOSE_SPELLINGS, Brief, Line, Question, role_order
from .errors import PlaybookError
from .rendering import Renderer, environment, escape_markdown, extra_work
from .wording import printable

CHAT_LIMIT = 4096  # bytes: 企业微信 / 钉钉 / 飞书 cap a message at about this
BRIEF_FORMATS = ("html", "markdown", "json")

# What the markdown gives up, one step at a time, until it fits one chat message: the least
# important first. The purpose's first line, the best and minimum goals and each attendee's
# first question are never given up.
TRIM_STEPS = (
    "talk",  # how to talk to each person's whole-brain quadrant
    "more_risks",  # a person's risks beyond the first
    "more_blocking",  # blocking risks beyond the first two
    "second_questions",  # a person's questions beyond the first
    "cares",  # what each role cares about
    "more_lead",  # the purpose's lines beyond the first three
    "risks",  # a person's risks
    "after",  # what we want each person to do after the meeting
    "lead_tail",  # the purpose's lines beyond the first
    "blocking",  # the blocking risks
)


class BriefRenderer:
    """Renders a Brief in one playbook's wording."""

    def __init__(self, renderer: Renderer):
        self.renderer = renderer

    def line(self, line: Line, brief: Brief, lang: str) -> str:
        """One Line in `lang`: its term filled with names, amounts, milestone names and term wordings."""
        r = self.renderer
        separator = r.term(lang, "list.separator")
        helpers = r._helpers(brief.report, lang)
        values: dict[str, str] = {}
        for key, value in line.text.items():
            if key == "milestone":
                value = helpers["milestone_name"](value)
            elif key == "question":
                value = r.question(value, lang)
            values[key] = value
        values |= {key: separator.join(names) for key, names in line.names.items()}
        values |= {key: helpers["money"](amount) for key, amount in line.money.items()}
        values |= {key: separator.join(r.term(lang, k) for k in keys) for key, keys in line.terms.items()}
        return r.fill(lang, line.key, **values)

    def question(self, question: Question, brief: Brief, lang: str) -> str:
        if question.code:
            return self.renderer.question(question.code, lang)
        assert question.line is not None
        return self.line(question.line, brief, lang)

    def view(self, brief: Brief, lang: str) -> dict:
        """The brief as localised strings, ready for any layout."""
        r = self.renderer
        t = lambda key: r.term(lang, key)  # noqa: E731
        report = r.localise(brief.report, lang)
        texts = {(f.code, f.subject): f.text for f in report.findings}
        separator = t("list.separator")
        names = {a.id: a.name for a in brief.attendees}

        attendees = []
        for a in brief.attendees:
            roles = [role.value for role in role_order(brief.purpose_id) if role.value in a.roles]
            attendees.append(
                {
                    "name": a.name,
                    "title": a.title or "",
                    "title_in_parens": r.fill(lang, "format.paren", text=a.title) if a.title else "",
                    "roles": separator.join(t(f"role.{role}") for role in a.roles) or t("brief.none"),
                    "power": t(f"power.{a.power}"),
                    "stance": t(f"stance.{a.stance}"),
                    "supporter": separator.join(t(f"supporter.{k}") for k in a.supporter),
                    "cares": [t(f"cares.{role}") for role in roles],
                    "talk": t(f"brain.{a.brain}") if a.brain else "",
                    "questions": [self.question(q, brief, lang) for q in a.questions],
                    "ask_label": t("brief.learn_privately") if a.privately else t("brief.learn"),
                    "after": self.line(a.after, brief, lang),
                    "reduce": [texts[(f.code, f.subject)].title for f in a.risks],
                }
            )
        purpose = brief.purpose_id
        # a purpose given by its name in the vocabulary is shown in the brief's language; free text as written
        named = PURPOSE_SPELLINGS.get(" ".join(brief.purpose.lower().replace("-", " ").replace("_", " ").split()))
        stated = t(f"purpose.name.{named}") if named else brief.purpose
        return {
            "lang": lang,
            "colon": t("format.colon"),
            "separator": t("card.join"),
            "title": f"{t('brief.title')} · {report.deal_name}",
            "purpose": stated,
            "meeting": r.fill(lang, "brief.meeting", date=brief.meeting_date.isoformat(), purpose=stated),
            "deal": {
                "customer": report.customer,
                "amount": r._helpers(brief.report, lang)["money"](report.amount),
                "stage": report.stage.name[lang],
                "step": report.buying_step.name[lang],
                "grade": report.grade or "-",
                "days": report.days_in_stage,
            },
            "blocking": [texts[(f.code, f.subject)].title for f in brief.blocking],
            "lead_label": t(f"brief.lead.{purpose}") if purpose else "",
            "lead": [self.line(line, brief, lang) for line in brief.lead],
            "attendees": attendees,
            "best": self.line(brief.best, brief, lang),
            "minimum": self.line(brief.minimum, brief, lang),
            "questions": [
                {"text": self.question(q, brief, lang), "whom": separator.join(names[i] for i in q.ask)} for q in brief.questions
            ],
            "labels": {key: t(f"brief.{key}") for key in (
                "glance", "blocking", "attendees", "cares", "talk", "learn", "after", "reduce", "objective", "best", "minimum",
                "questions", "ask", "none", "more",
            )} | {key: t(f"label.{key}") for key in ("customer", "amount", "stage", "buying_step", "grade", "days_in_stage", "days")},
            "ruleset": report.ruleset_version,
        }

    def render(self, brief: Brief, *, lang: str, fmt: str) -> str:
        if fmt not in BRIEF_FORMATS:
            raise PlaybookError(f"brief format {fmt!r} is not supported; allowed: {', '.join(BRIEF_FORMATS)}")
        with template_sandbox.work_budget(extra_work(brief)):
            view = self.view(brief, lang)
            if fmt == "html":
                return printable(self._html(view))
        if fmt == "json":
            return json.dumps({"brief": json.loads(brief.model_dump_json()), "text": view}, ensure_ascii=False, indent=2)
        return printable(self._markdown(view))

    def _html(self, view: dict) -> str:
        name = "brief/brief.html.j2"
        template = template_sandbox.load(environment(self.renderer.playbook.template_dirs, html=True), name)
        return template_sandbox.render(lambda: template.root_render_func(template.new_context(view)), name)

    @staticmethod
    def _markdown(view: dict) -> str:
        """One group-chat message: the purpose's lines first, then the goals, the blocking risks and each
        attendee; the least important lines go first (TRIM_STEPS) until it fits CHAT_LIMIT bytes."""
        labels = view["labels"]
        colon = view["colon"]

        def build(dropped: set[str], people: int) -> str:
            d = view["deal"]
            lines = [
                f"**{view['title']}**",
                view["meeting"],
                f"{d['customer']} · {d['amount']} · {labels['stage']}{colon}{d['stage']} / {labels['buying_step']}{colon}{d['step']} · "
                f"{labels['grade']} {d['grade']} · {labels['days_in_stage']} {d['days']} {labels['days']}",
            ]
            if view["lead"]:
                lead = view["lead"][:1] if "lead_tail" in dropped else view["lead"][:3] if "more_lead" in dropped else view["lead"]
                lines += [f"**{view['lead_label']}**", *[f"- {item}" for item in lead]]
            lines += [f"**{labels['objective']}**", f"- {labels['best']}{colon}{view['best']}", f"- {labels['minimum']}{colon}{view['minimum']}"]
            if view["blocking"] and "blocking" not in dropped:
                shown = view["blocking"][:2] if "more_blocking" in dropped else view["blocking"]
                lines += [f"**{labels['blocking']}**", *[f"- {b}" for b in shown]]
            lines.append(f"**{labels['attendees']}**")
            for a in view["attendees"][:people]:
                title = a["title_in_parens"]
                supporter = f" · {a['supporter']}" if a["supporter"] else ""
                lines.append(f"- **{a['name']}**{title} {a['roles']} · {a['power']} · {a['stance']}{supporter}")
                if a["cares"] and "cares" not in dropped:
                    lines.append(f"  {labels['cares']}{colon}{a['cares'][0]}")
                for question in a["questions"][: 1 if "second_questions" in dropped else 2]:
                    lines.append(f"  {a['ask_label']}{colon}{question}")
                if "after" not in dropped:
                    lines.append(f"  {labels['after']}{colon}{a['after']}")
                if a["talk"] and "talk" not in dropped:
                    lines.append(f"  {labels['talk']}{colon}{a['talk']}")
                if "risks" not in dropped:
                    lines += [f"  ⚠ {risk}" for risk in a["reduce"][: 1 if "more_risks" in dropped else None]]
            if len(view["attendees"]) > people:
                lines.append(labels["more"])
            return escape_markdown("\n".join(lines) + "\n")

        dropped: set[str] = set()
        text = build(dropped, len(view["attendees"]))
        for step in TRIM_STEPS:
            if len(text.encode("utf-8")) <= CHAT_LIMIT:
                return text
            dropped.add(step)
            text = build(dropped, len(view["attendees"]))
        people = len(view["attendees"])
        while len(text.encode("utf-8")) > CHAT_LIMIT and people > 0:
            people -= 1
            text = build(dropped, people)
        if len(text.encode("utf-8")) <= CHAT_LIMIT:
            return text
        return text.encode("utf-8")[: CHAT_LIMIT - 4].decode("utf-8", errors="ignore") + "…\n"
