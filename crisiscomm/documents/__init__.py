"""The YAML documents the office writes, whatever their kind.

What every kind shares lives here, below playbook/, drill/ and every later kind (office,
lifecycles, norms), and imports none of them:

source.py    marked values: every mapping, list and scalar knows its file:line:col
load.py      the safe loader (YAML 1.2 core typing, duplicate keys, alias and size caps)
yamllib.py   PyYAML, imported without compiling what only its pure-Python parser uses
merge.py     `extends`: a document laid over the one it builds on, marks kept
library.py   files loaded once, protocols found by id, `extends` chains resolved
findings.py  a finding: file:line, rule id, severity, message, hint
rules.py     the registry of rule ids (each kind registers its own)
schema.py    JSON Schema errors worded for the author
quick.py     a quick yes-or-no schema check, so a clean file never waits for jsonschema
kinds.py     a kind (its first key and its check) and validating files by their kind
output.py    findings as text, json, github, sarif, junit

The list of kinds is `crisiscomm.validation.KINDS`, on the floor above the kinds.
"""
