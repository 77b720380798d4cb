"""``python3 -m device_simulator serve --host 0.0.0.0 --port 8080`` (port default: $SIMULATOR_PORT or 8080).

``SIMULATOR_PRESEED="vehicle=10,battery=5,solar_inverter=5"`` registers devices at start-up, so a sandbox's seed
data can reference ``device_id(kind, 0..N-1)`` without an extra POST. ``ids KIND FROM [COUNT]`` prints ids.
"""

from __future__ import annotations

import argparse
import os
import sys

from device_simulator.ids import device_id
from device_simulator.registry import Registry


def preseed(registry: Registry, spec: str) -> None:
    """Apply a ``kind=count,...`` preseed string (raises ``ValueError`` naming the bad part)."""
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kind, _, count = part.partition("=")
        if not count.isdigit():
            raise ValueError(f"SIMULATOR_PRESEED part {part!r} must look like kind=count")
        if int(count) > 0:
            registry.create(kind.strip(), int(count))


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="device_simulator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("SIMULATOR_PORT", "8080")))
    serve.add_argument("--log-level", default=os.environ.get("SIMULATOR_LOG_LEVEL", "info"))
    ids = sub.add_parser("ids", help="print device ids")
    ids.add_argument("kind")
    ids.add_argument("first", type=int)
    ids.add_argument("count", type=int, nargs="?", default=1)
    args = parser.parse_args(argv)

    if args.command == "ids":
        for n in range(args.first, args.first + args.count):
            print(device_id(args.kind, n))
        return 0

    import uvicorn  # imported lazily so `ids` works without the server dependencies

    from device_simulator.api import create_app

    registry = Registry()
    preseed(registry, os.environ.get("SIMULATOR_PRESEED", ""))
    uvicorn.run(create_app(registry), host=args.host, port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
