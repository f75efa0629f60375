from cloud.scope.cli import main

raise SystemExit(main())
