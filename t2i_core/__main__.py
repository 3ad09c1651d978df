"""``python -m t2i_core <command>``: see ``python -m t2i_core --help``."""

from .cli import main

raise SystemExit(main())
