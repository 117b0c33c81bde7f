from strato.cli import main

raise SystemExit(main())
