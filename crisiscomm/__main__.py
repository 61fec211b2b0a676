from crisiscomm.cli import main

raise SystemExit(main())
