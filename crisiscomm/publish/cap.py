"""OASIS Common Alerting Protocol 1.2 messages: one per released statement.

An incident's first release is an `Alert`; each later one an `Update` whose `references`
name every earlier message of the incident (sender,identifier,sent); a correction is such
an `Update`, its public note in `<note>`. A withdrawal is a `Cancel` of its own
(`cap/KEY-withdrawn.xml`) that references the withdrawn message, the public reason in
`<note>`. A drill's messages
have status `Exercise`, so no alerting hub takes them for a real emergency. Each message
holds one `<info>` per language the statement went out in. The schema they are checked
against in the tests is `CAP-v1.2.xsd` beside this module (OASIS; see CAP-v1.2.README).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from crisiscomm.publish.pages import SiteOptions, render
from crisiscomm.publish.record import PublicIncident, PublicStatement

__all__ = ["CAP_XSD", "cap_cancel_path", "cap_messages", "cap_path", "cap_sent"]

CAP_XSD = Path(__file__).parent / "CAP-v1.2.xsd"

# the incident's severity word in the playbook -> CAP <severity>
SEVERITIES = {
    "critical": "Extreme",
    "extreme": "Extreme",
    "high": "Severe",
    "severe": "Severe",
    "medium": "Moderate",
    "moderate": "Moderate",
    "low": "Minor",
    "minor": "Minor",
}
# the playbook's id (a word of it) -> CAP <category>; anything else is `Other`
CATEGORIES = {
    "flood": "Met",
    "storm": "Met",
    "earthquake": "Geo",
    "outbreak": "Health",
    "health": "Health",
    "utility": "Infra",
    "outage": "Infra",
    "breach": "Security",
    "chemical": "CBRNE",
    "industrial": "CBRNE",
    "fire": "Fire",
}
HEADLINE_LENGTH = 160  # CAP 1.2: a headline SHOULD stay within 160 characters
# what CAP forbids in identifiers and the sender: white space, commas, `<` and `&`
_NOT_IN_IDENTIFIERS = re.compile(r"[\s,<&]+")


def cap_path(statement: PublicStatement) -> str:
    """Where a statement's CAP message lies in the site."""
    return f"cap/{statement.key}.xml"


def cap_cancel_path(statement: PublicStatement) -> str:
    """Where the CAP Cancel of a withdrawn statement lies in the site."""
    return f"cap/{statement.key}-withdrawn.xml"


def cap_sent(statement: PublicStatement, zone: str, moment: datetime | None = None) -> str:
    """The release time (or `moment`) as CAP writes it: local time with its offset,
    `+05:00` (never `Z`)."""
    at = moment or statement.released_at
    return at.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def _token(text: str) -> str:
    return _NOT_IN_IDENTIFIERS.sub("-", text.strip()) or "crisiscomm"


def _category(playbook_id: str) -> str:
    return next(
        (cat for word, cat in CATEGORIES.items() if word in playbook_id.lower()),
        "Other",
    )


def _headline(text: str) -> str:
    return text if len(text) <= HEADLINE_LENGTH else text[: HEADLINE_LENGTH - 1] + "…"


def cap_messages(
    incident: PublicIncident, options: SiteOptions, titles: dict[str, str]
) -> dict[str, bytes]:
    """The CAP messages of one incident's releases, by their path in the site.

    `titles` is the site's name in each language (the `senderName`).
    """
    sender = _token(options.sender)
    base = options.base_url.rstrip("/")
    messages: dict[str, bytes] = {}
    earlier: list[str] = []
    sent_as: dict[str, str] = {}  # statement key -> its message's reference
    # releases and withdrawals in the order they happened, each a message of its own
    acts = [(s.released_at, 0, s) for s in incident.statements]
    acts += [(s.withdrawn_at, 1, s) for s in incident.statements if s.withdrawn_at]
    acts.sort(key=lambda act: (act[0], act[1], act[2].key))
    for number, (moment, cancel, statement) in enumerate(acts):
        sent = cap_sent(statement, incident.timezone, moment)
        identifier = _token(f"{sender}-{statement.key}" + ("-withdrawn" if cancel else ""))
        infos = [
            {
                "language": code,
                "event": incident.names.get(code) or incident.playbook_id,
                "sender_name": titles.get(code, ""),
                "headline": _headline(f"{statement.titles[code]} ({incident.id})"),
                "description": statement.withdrawal_reason if cancel else statement.texts[code],
                "web": f"{base}/{code}/{incident.id}.html#{statement.key}" if base else "",
                "contact": statement.hotline.get(code, ""),
            }
            for code in incident.languages
            if code in statement.texts
        ]
        if cancel:
            msg_type, note = "Cancel", statement.withdrawal_reason
            references = sent_as[statement.key]
        else:
            msg_type = "Alert" if number == 0 else "Update"
            note, references = statement.correction_note, " ".join(earlier)
        reference = f"{sender},{identifier},{sent}"
        messages[cap_cancel_path(statement) if cancel else cap_path(statement)] = render(
            "cap.xml",
            identifier=identifier,
            sender=sender,
            sent=sent,
            status="Exercise" if incident.exercise else "Actual",
            msg_type=msg_type,
            note=note,
            references=references,
            incident_id=incident.id,
            category=_category(incident.playbook_id),
            severity=SEVERITIES.get(incident.severity.lower(), "Unknown"),
            infos=infos,
        )
        sent_as.setdefault(statement.key, reference)
        earlier.append(reference)
    return messages
