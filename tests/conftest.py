"""Shared fixtures live in tests/fixtures/, one module per real dependency the tests start."""

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.cluster",
]
