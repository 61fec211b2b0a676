"""`python -m crisiscomm`: the same as the `crisiscomm` command."""

from crisiscomm.cli import main

raise SystemExit(main())
