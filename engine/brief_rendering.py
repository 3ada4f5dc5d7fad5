"""Rendering the pre-meeting brief: printable HTML (A4, one page), Markdown for group chats, JSON.

Everything the templates show is localised here into plain strings (the
templates compare nothing); the HTML template is the playbook's
`templates/brief/brief.html.j2`, rendered sandboxed with HTML autoescaping.
"""

from __future__ import annotations

import json
import jinja2

from .brief import Brief
from .errors import PlaybookError
from .rendering import Renderer, environment

CHAT_LIMIT = 4096  # bytes: 企业微信 / 钉钉 / 飞书 cap a message at about this
BRIEF_FORMATS = ("html", "markdown", "json")


class BriefRenderer:
    """Renders a Brief in one playbook's wording."""

    def __init__(self, renderer: Renderer):
        self.renderer = renderer

    def view(self, brief: Brief, lang: str) -> dict:
        """The brief as localised strings, ready for any layout."""
        r = self.renderer
        t = lambda key: r.term(lang, key)  # noqa: E731
        report = r.localise(brief.report, lang)
        texts = {(f.code, f.subject): f.text for f in report.findings}
        model = r.playbook.stage_models[report.stage_model]
        separator = t("list.separator")
        names = {a.id: a.name for a in brief.attendees}

        def milestone(milestone_id: str) -> str:
            found = model.find_milestone(milestone_id)
            return getattr(found[1].name, lang) if found else milestone_id

        order = {q.code: number for number, q in enumerate(brief.questions, 1)}
        attendees = []
        for a in brief.attendees:
            attendees.append(
                {
                    "name": a.name,
                    "title": a.title or "",
                    "roles": separator.join(t(f"role.{role}") for role in a.roles) or t("brief.none"),
                    "power": t(f"power.{a.power}"),
                    "stance": t(f"stance.{a.stance}"),
                    "supporter": separator.join(t(f"supporter.{k}") for k in a.supporter),
                    "cares": [t(f"cares.{role}") for role in a.roles],
                    "talk": t(f"brain.{a.brain}") if a.brain else "",
                    "learn": t("brief.question_numbers").format(
                        numbers=separator.join(str(order[code]) for code in a.ask if code in order)
                    ) if any(code in order for code in a.ask) else "",
                    "reduce": [texts[(f.code, f.subject)].title for f in a.risks],
                }
            )
        best = t("brief.best_milestone").format(milestone=milestone(brief.best_commitment)) if brief.best_commitment else t("brief.best_default")
        minimum = (
            t("brief.minimum_gap").format(question=r.question(brief.minimum_commitment, lang))
            if brief.minimum_commitment else t("brief.minimum_default")
        )
        return {
            "lang": lang,
            "colon": "：" if lang == "zh" else ": ",
            "separator": "；" if lang == "zh" else "; ",
            "title": f"{t('brief.title')} · {report.deal_name}",
            "meeting": t("brief.meeting").format(date=brief.meeting_date.isoformat(), purpose=brief.purpose),
            "deal": {
                "customer": report.customer,
                "amount": f"{report.currency} {report.amount:,.0f}",
                "stage": report.stage.name[lang],
                "step": report.buying_step.name[lang],
                "grade": report.grade or "-",
                "days": report.days_in_stage,
            },
            "blocking": [texts[(f.code, f.subject)].title for f in brief.blocking],
            "attendees": attendees,
            "best": best,
            "minimum": minimum,
            "questions": [{"text": r.question(q.code, lang), "whom": separator.join(names[i] for i in q.ask)} for q in brief.questions],
            "labels": {key: t(f"brief.{key}") for key in (
                "glance", "blocking", "attendees", "cares", "talk", "learn", "reduce", "objective", "best", "minimum",
                "questions", "ask", "none",
            )} | {key: t(f"label.{key}") for key in ("customer", "amount", "stage", "buying_step", "grade", "days_in_stage", "days")},
            "ruleset": report.ruleset_version,
        }

    def render(self, brief: Brief, *, lang: str, fmt: str) -> str:
        if fmt not in BRIEF_FORMATS:
            raise PlaybookError(f"brief format {fmt!r} is not supported; allowed: {', '.join(BRIEF_FORMATS)}")
        view = self.view(brief, lang)
        if fmt == "json":
            return json.dumps({"brief": json.loads(brief.model_dump_json()), "text": view}, ensure_ascii=False, indent=2)
        if fmt == "html":
            return self._html(view)
        return self._markdown(view)

    def _html(self, view: dict) -> str:
        env = environment(self.renderer.playbook.template_dirs, html=True)
        try:
            return env.get_template("brief/brief.html.j2").render(**view)
        except jinja2.TemplateNotFound:
            raise PlaybookError("template brief/brief.html.j2 is missing") from None
        except jinja2.TemplateSyntaxError as error:
            raise PlaybookError(f"{error.filename or 'brief/brief.html.j2'}, line {error.lineno}: {error.message}") from None
        except jinja2.UndefinedError as error:
            raise PlaybookError(f"template brief/brief.html.j2: {error.message}") from None

    def _markdown(self, view: dict) -> str:
        """Short enough for one group-chat message: sections are trimmed until it fits CHAT_LIMIT bytes."""
        labels = view["labels"]
        colon = "：" if view["lang"] == "zh" else ": "

        def build(limit_people: int, limit_items: int) -> str:
            d = view["deal"]
            lines = [
                f"**{view['title']}**",
                view["meeting"],
                f"{d['customer']} · {d['amount']} · {labels['stage']}{colon}{d['stage']} / {labels['buying_step']}{colon}{d['step']} · "
                f"{labels['grade']} {d['grade']} · {labels['days_in_stage']} {d['days']} {labels['days']}",
            ]
            if view["blocking"]:
                lines += [f"**{labels['blocking']}**", *[f"- {b}" for b in view["blocking"][:limit_items]]]
            lines += [f"**{labels['objective']}**", f"- {labels['best']}{colon}{view['best']}", f"- {labels['minimum']}{colon}{view['minimum']}"]
            lines.append(f"**{labels['attendees']}**")
            for a in view["attendees"][:limit_people]:
                title = (f"（{a['title']}）" if view["lang"] == "zh" else f" ({a['title']})") if a["title"] else ""
                head = f"- **{a['name']}**{title}"
                lines.append(f"{head} {a['roles']} · {a['power']} · {a['stance']}" + (f" · {a['supporter']}" if a["supporter"] else ""))
                if a["talk"]:
                    lines.append(f"  {labels['talk']}{colon}{a['talk']}")
                for risk in a["reduce"][:limit_items]:
                    lines.append(f"  ⚠ {risk}")
            if view["questions"]:
                lines.append(f"**{labels['questions']}**")
                lines += [f"{i}. {q['text']}（{q['whom']}）" if view["lang"] == "zh" else f"{i}. {q['text']} ({q['whom']})"
                          for i, q in enumerate(view["questions"][:limit_items], 1)]
            return "\n".join(lines) + "\n"

        for people, items in ((99, 99), (8, 4), (6, 3), (4, 2), (3, 1), (2, 1), (1, 1), (0, 0)):
            text = build(people, items)
            if len(text.encode("utf-8")) <= CHAT_LIMIT:
                return text
        return text.encode("utf-8")[: CHAT_LIMIT - 4].decode("utf-8", errors="ignore") + "…\n"
