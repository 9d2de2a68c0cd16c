from splkit.cli import main

raise SystemExit(main())
