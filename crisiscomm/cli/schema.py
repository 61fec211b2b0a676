"""`crisiscomm schema`: print the playbook JSON Schema."""

from __future__ import annotations

import click


@click.command()
def schema() -> int:
    """Print the JSON Schema of playbooks and protocols (Draft 2020-12).

    Save it for your editor: with yaml-language-server (VS Code's YAML extension, Neovim,
    Helix ...) a first line `# yaml-language-server: $schema=playbook.schema.json` gives
    completion and checks as you type.

    \b
    Example:
      crisiscomm schema > playbook.schema.json
    """
    from crisiscomm.playbook.schema import schema_text

    click.echo(schema_text(), nl=False)
    return 0
