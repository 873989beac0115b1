from grassroots_agent.cli import main

raise SystemExit(main())
