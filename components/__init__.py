"""The sandbox's Pulumi components: one ``ComponentResource`` per concern, ``Sandbox`` composing them.

Imported by the one Pulumi program (``__main__.py`` at the project root). Components
know the spec and the project defaults, never who asked for the sandbox.
"""

from .defaults import ProjectDefaults
from .sandbox import Sandbox, SandboxArgs
from .seed_job import MaskedCopyNotAllowed, SeedContainerArgs, check_seed_policy, seed_container

__all__ = [
    "MaskedCopyNotAllowed",
    "ProjectDefaults",
    "Sandbox",
    "SandboxArgs",
    "SeedContainerArgs",
    "check_seed_policy",
    "seed_container",
]
