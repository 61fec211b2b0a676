"""The office: one team shared by every playbook (`office.yaml`, `crisiscomm-office: 1`).

model.py      the compiled, immutable Office: people, roles with deputies, rotations
norms.py      the office's norms: a target per indicator, shipped defaults (CERC)
rotations.py  who holds a duty role at a given time (cycles, shifts, overrides)
check.py      the office document kind: JSON Schema (schema.json) and lint rules
find.py       where an office file is found, and compiling it (cached per process)
signing.py    OpenSSH SSHSIG signatures with Ed25519 keys (what `ssh-keygen -Y verify` checks)

Below playbook/ (a playbook takes its team from the office), above documents/.
"""
