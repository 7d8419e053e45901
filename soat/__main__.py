from soat.cli import main

raise SystemExit(main())
