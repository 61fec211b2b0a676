"""`crisiscomm graph`: a playbook's state machine as a Mermaid diagram."""

from __future__ import annotations

import click


@click.command()
@click.argument("playbook")
def graph(playbook: str) -> int:
    """Print the merged playbook as a Mermaid stateDiagram-v2 (renders on GitHub and GitLab).

    PLAYBOOK is a path or an id found in ./playbooks, CRISISCOMM_PLAYBOOKS or the shipped
    playbooks.

    \b
    Example:
      crisiscomm graph flood > docs/flood.mmd
    """
    from crisiscomm.documents.library import Library
    from crisiscomm.playbook.compile import compile_playbook
    from crisiscomm.playbook.graph import mermaid

    library = Library()
    click.echo(
        mermaid(compile_playbook(library.find_playbook(playbook), library=library)), nl=False
    )
    return 0
