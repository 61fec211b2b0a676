"""Statement rules: every language (texts, and the facts in them), the promised next
update, and four-eyes clearance."""

from __future__ import annotations

import re
from datetime import timedelta

from crisiscomm import i18n
from crisiscomm.documents.findings import Severity
from crisiscomm.durations import parse_duration
from crisiscomm.i18n import N_, _
from crisiscomm.playbook.rules.core import Linter, NodePath, rule
from crisiscomm.templates import placeholders

__all__ = [
    "clearance_deadline",
    "fact_language",
    "holding_statement_next_update",
    "missing_cadence",
    "missing_language",
    "self_approval",
]


@rule(
    "missing-language",
    severity=Severity.ERROR,
    summary="a statement lacks a text in one of the playbook's `languages`",
)
def missing_language(linter: Linter) -> None:
    """A statement without a text in one of `languages`, or a playbook with
    statements but no `languages`.
    """
    languages = linter.document.get("languages") or []
    if linter.statements and not languages and not linter.is_protocol:
        linter.report(
            "missing-language",
            (),
            _("statements are defined but no `languages` are listed"),
            _("add e.g. `languages: [kaa, uz, ru, en]`"),
        )
    for name, statement in linter.statements.items():
        texts = statement.get("text") or {}
        path: NodePath = (
            ("statements", name, "text") if "text" in statement else ("statements", name)
        )
        missing = [language for language in languages if not str(texts.get(language, "")).strip()]
        if missing:
            linter.report(
                "missing-language",
                path,
                _("statement `{s}` has no text in: {langs}").format(
                    s=name, langs=", ".join(missing)
                ),
                _("every public statement must exist in every language of `languages`"),
                key="text" in statement,
            )


@rule(
    "fact-language",
    severity=Severity.ERROR,
    summary="a statement text uses a fact that has no value in the text's language",
)
def fact_language(linter: Linter) -> None:
    """A statement text in one language that uses a fact with no value in that language:
    a `place` whose gazetteer list has places without a name in it, or a `boolean` with no
    words for yes and no in it (the built-in ones cover kaa, uz, ru and en).
    """
    from crisiscomm.formats import boolean_words

    gazetteer = linter.document.get("gazetteer") or {}
    for path, text in linter.templates():
        if path[0] != "statements" or len(path) != 4:
            continue
        language = str(path[3])
        for name in dict.fromkeys(placeholders(text).names):
            fact = linter.facts.get(name)
            if not isinstance(fact, dict):
                continue
            kind = fact.get("type", "string")
            if kind == "place" and fact.get("gazetteer") in gazetteer:
                places = gazetteer[fact["gazetteer"]]
                unnamed = [p for p, names in places.items() if not names.get(language)]
                if not unnamed:
                    continue
                message = _(
                    "`${fact}` has no {lang} name for {places} (gazetteer list `{list}`)"
                ).format(
                    fact=name, lang=language, places=", ".join(unnamed), list=fact["gazetteer"]
                )
                where = linter.location(("gazetteer", fact["gazetteer"], unnamed[0]))
                hint = _("give each place of `{list}` a `{lang}:` name (from {where})").format(
                    list=fact["gazetteer"], lang=language, where=f"{where.file}:{where.line}"
                )
            elif kind == "boolean" and boolean_words(language, fact.get("words")) is None:
                message = _("`${fact}` has no {lang} words for yes and no").format(
                    fact=name, lang=language
                )
                hint = _("give the fact its own words in {lang}: {example}").format(
                    lang=language, example=f"words: {{{language}: [..., ...]}}"
                )
            else:
                continue
            linter.report(
                "fact-language",
                path,
                message,
                hint,
                near=re.compile(rf"\$(?:\{{{re.escape(name)}\}}|{re.escape(name)}\b)"),
                span=text.count("\n") + 1,
            )


@rule(
    "holding-statement-next-update",
    severity=Severity.ERROR,
    summary="a holding statement does not say when the next update comes",
)
def holding_statement_next_update(linter: Linter) -> None:
    """A holding statement text that does not contain `$next_update_at`."""
    for name, statement in linter.statements.items():
        if statement.get("kind") != "holding":
            continue
        for language, text in (statement.get("text") or {}).items():
            if "next_update_at" not in placeholders(text).names:
                linter.report(
                    "holding-statement-next-update",
                    ("statements", name, "text", language),
                    _(
                        "holding statement `{s}` ({lang}) does not say when the next update comes"
                    ).format(s=name, lang=language),
                    _("include `$next_update_at`, e.g. {example}").format(
                        example=_sample_sentence(language)
                    ),
                )


def _sample_sentence(language: str) -> str:
    """A sentence promising the next update, in the statement's language where we have it."""
    sentence = N_("The next update will follow at $next_update_at.")
    return i18n.translator(language).gettext(sentence) if language in i18n.LANGUAGES else sentence


@rule(
    "missing-cadence",
    severity=Severity.ERROR,
    summary="statements promise `$next_update_at` but no state has a `cadence`",
)
def missing_cadence(linter: Linter) -> None:
    """A statement uses `$next_update_at` but no state has a `cadence` to give it a
    value (reported once, at the first such text).
    """
    if any("cadence" in state for state in linter.states.values()):
        return
    for path, text in linter.templates():
        if path[0] == "statements" and "next_update_at" in placeholders(text).names:
            linter.report(
                "missing-cadence",
                path,
                _("`$next_update_at` has no value: no state has a follow-up `cadence`"),
                _("give the follow-up state e.g. `cadence: {every: 2h, statement: update}`"),
                near=re.compile(r"\$\{?next_update_at\b"),
                span=text.count("\n") + 1,
            )
            return


@rule(
    "self-approval",
    severity=Severity.ERROR,
    summary="a statement's clearance chain has no approver other than its author",
)
def self_approval(linter: Linter) -> None:
    """A statement whose clearance chain names only its author's role (four-eyes)."""
    for name, statement in linter.statements.items():
        author = statement.get("author")
        clearance = statement.get("clearance") or []
        if author and clearance and all(role == author for role in clearance):
            linter.report(
                "self-approval",
                ("statements", name, "clearance"),
                _("statement `{s}` would be cleared only by its author's role `{r}`").format(
                    s=name, r=author
                ),
                _("add an approver from another role (four-eyes: the author may not approve)"),
            )


@rule(
    "clearance-deadline",
    severity=Severity.ERROR,
    summary="a clearance deadline names no step of the chain, or its stages are out of order",
)
def clearance_deadline(linter: Linter) -> None:
    """A `clearance_deadlines` entry for a role that is not a step of the statement's
    `clearance` chain, or stages that do not come in order (remind, then deputies, then
    escalate, each later than the one before).
    """
    for name, statement in linter.statements.items():
        chain = list(statement.get("clearance") or [])
        for step, deadline in (statement.get("clearance_deadlines") or {}).items():
            path: NodePath = ("statements", name, "clearance_deadlines", step)
            if step not in chain:
                linter.report(
                    "clearance-deadline",
                    path,
                    _("`{step}` is not a step of the clearance chain of `{s}`").format(
                        step=step, s=name
                    ),
                    _("its chain: {roles}").format(roles=", ".join(chain) or "-"),
                )
                continue
            previous: tuple[str, timedelta] | None = None
            for stage in ("remind", "deputies", "escalate"):
                if stage not in deadline:
                    continue
                try:
                    after = parse_duration(str(deadline[stage]))
                except ValueError:
                    continue  # invalid-duration reports it
                if previous is not None and after <= previous[1]:
                    linter.report(
                        "clearance-deadline",
                        (*path, stage),
                        _("`{stage}` ({after}) must come later than `{before}` ({at})").format(
                            stage=stage,
                            after=deadline[stage],
                            before=previous[0],
                            at=deadline[previous[0]],
                        ),
                        _("order them: remind, then deputies, then escalate"),
                    )
                previous = (stage, after)
