"""The fixed registry of actions a state may run on entry (`on_enter`).

A playbook names actions; it never supplies code. The engine maps each name to a Python
callable; this table says which names exist and which parameters each needs.
"""

from __future__ import annotations

__all__ = ["ACTIONS"]

# action name -> parameters it requires
ACTIONS: dict[str, tuple[str, ...]] = {
    "notify": ("notify",),
    "notify_owner": (),
    "draft_statement": ("statement",),
}
