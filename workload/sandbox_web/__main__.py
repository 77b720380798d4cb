"""``python3 -m sandbox_web --port 8080 --config-dir /etc/sandbox``: the container's command."""

from sandbox_web.server import main

raise SystemExit(main())
