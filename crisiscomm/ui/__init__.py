"""The terminal UI: a read model of the store, rich renderables and the Textual dashboard.

`readmodel` turns store rows into plain data (an incident's in `lines`, the board's in
`board`, which `show` does not load); `render` draws it (rich, or plain text for pipes and
NO_COLOR); `timeline` writes an incident's record as text; `dashboard` is the `crisiscomm
watch` app. Nothing here decides what happens to an incident: actions call the service
functions, as the CLI does.
"""
