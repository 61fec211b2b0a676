"""Playbooks as code: safe loading, `extends` merging, schema and lint rules."""
