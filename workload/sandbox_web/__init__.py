"""The default workload of a sandbox: its login/dashboard page.

Runs from Debian's ``python3`` alone (standard library only, no pip installs) so that
its image is a Debian base plus ``python3-minimal``. It imports nothing from the
provisioner (``src/sandboxes``): the two meet only at the ConfigMap files it reads.
"""

__version__ = "0.1.0"
