"""The playbook kind (playbooks and protocols, `crisiscomm: 1`): schema, lint, the compiled model.

check.py     the kind: `extends` merged, JSON Schema, lint rules (documents/ does the loading)
schema.py    the playbook JSON Schema and its validator
lint.py      the lint rules
model.py     the compiled, immutable Playbook the engine runs
compile.py   from a file to a Playbook (and a per-process cache of compiled files)
cache.py     compiled playbooks kept on disk, keyed by the hashes of their sources
graph.py     Mermaid state diagrams
actions.py   the fixed registry of action names

Nothing here imports drill/, engine/, store/ or anything above them.
"""
