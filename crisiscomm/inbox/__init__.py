"""The register (`crisiscomm inbox`): media queries, questions, appeals and posts.

    register.py   the register document (inbox.yaml): lifecycles, norms, answers; compiling it
    calendar.py   working days and public holidays (calendars/*.yaml); deadlines from norms
    check.py      the `crisiscomm-inbox` and `crisiscomm-calendar` kinds `validate` checks
    service.py    add, assign, answer, refer, extend, link, reach, close: one commit each
    answers.py    draft answers in the asker's language: from a statement, a template, the officer
    clearance.py  approving a draft where inbox.yaml names a clearance; what `answer` sends
    importing.py  items from a CSV or JSON file: all rows or none, errors by row and column
    timers.py     what an item's deadline and reminder timers do when due
    notices.py    reminders, missed deadlines, a spreading post: outbox rows per person
    kpis.py       `inbox kpis`: within the norm, response times, rumour correction latency
    search.py     `inbox search`: items by the words of their subject, text or answer
    privacy.py    citizens' personal data: who sees it, erasing it, a person's export

Above the engine (it resolves who acts as incidents do), below notify and serve.
"""
