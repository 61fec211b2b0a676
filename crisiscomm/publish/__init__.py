"""The public record: released statements only, published as a static site.

record = read_record(store)                    # record.py: what the public may see, nothing else
files = site_files(record, options)            # site.py: pages, Atom feeds, CAP messages as bytes
swap_in(files, Path("/var/www/press"))         # folder.py: a new folder, swapped in atomically

record.py    released statement versions by incident (never drafts, notes, internal facts,
             people, approvals or contacts), withdrawals and corrections with their public
             reason or note; drills only in the exercise site (`read_record(store, exercise=True)`)
pages.py     Jinja2 templates (autoescaped) for the HTML pages and the Atom feeds (RFC 4287),
             interface words in each page's language
notices.py   what a page, a feed entry says of a withdrawn, corrected or superseded release
cap.py       one OASIS CAP 1.2 message per released statement (and a Cancel per withdrawal),
             one <info> per language;
             CAP-v1.2.xsd is the OASIS schema the tests validate against (see CAP-v1.2.README)
site.py      the whole site as bytes (deterministic), a large one rendered on two cores;
             what each incident rendered to, kept for the next republish
folder.py    the folder beside the live one, swapped in with one rename; one builder at a time
incremental.py  republishing after a release (serve's `site` channel): only what changed is
             rendered and written, in a new folder of hard links swapped in at once

The package face imports nothing: import from the module that holds what you need.
"""
