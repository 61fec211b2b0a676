"""What every `crisiscomm inbox` command needs: the register, the office, who is acting."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crisiscomm.inbox.register import Register
    from crisiscomm.office.model import Office
    from crisiscomm.store import Store

__all__ = ["acting", "setup"]


def setup() -> tuple[Register, Office]:
    """The office's register (inbox.yaml) and the office (office.yaml), compiled."""
    from pathlib import Path

    from crisiscomm.inbox.register import compiled_register, find_register
    from crisiscomm.office.find import compiled_office, find_office

    return compiled_register(Path(find_register())), compiled_office(find_office(None))


def acting(store: Store, office: Office, actor: str | None) -> tuple[str, str | None]:
    """Who acts and who typed it for them, on the identity's word where it counts (a
    clearance): `--as` names another person only where the office allows acting for others."""
    from crisiscomm.engine.identity import current_actor
    from crisiscomm.inbox.service import acting_person

    return acting_person(store=store, office=office, actor=current_actor(actor))
