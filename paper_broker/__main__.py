"""Run the paper broker with ``python -m paper_broker``."""

from paper_broker.cli import main

raise SystemExit(main())
