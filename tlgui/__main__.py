from tlgui.cli import main

raise SystemExit(main())
