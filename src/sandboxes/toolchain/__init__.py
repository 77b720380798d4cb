"""The third-party toolchain: pinned versions, and how each binary is found or built."""

from sandboxes.toolchain.build import Component, ToolchainError, components, missing, obtain, register_plugins
from sandboxes.toolchain.pins import Pins, load_pins

__all__ = ["Component", "Pins", "ToolchainError", "components", "load_pins", "missing", "obtain", "register_plugins"]
