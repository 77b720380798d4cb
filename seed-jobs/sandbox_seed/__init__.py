"""Seed program for sandbox databases: blank, preconfigured, copy and masked-copy.

Ships in its own container image (stdlib + psycopg 3 only) and imports nothing from the
``sandboxes`` provisioner package: the Kubernetes seed Job runs ``python3 -m sandbox_seed run …``.
"""

__version__ = "0.1.0"
