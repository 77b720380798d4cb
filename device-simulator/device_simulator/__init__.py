"""Simulated devices (vehicles, home batteries, solar inverters) whose state is a pure function of id and UTC time.

The package is self-contained on purpose: it ships in its own container image and imports nothing from the
``sandboxes`` provisioner, so the image stays small and the behaviour can be reimplemented from the README alone.
"""

from device_simulator.ids import KINDS, Kind, device_id, parse_device_id
from device_simulator.model import DeviceState, device_spec, state_at

__all__ = ["KINDS", "DeviceState", "Kind", "device_id", "device_spec", "parse_device_id", "state_at"]
