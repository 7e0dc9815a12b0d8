"""Test support shared by every package: the `shared.testing.fixtures` pytest plugin and helpers."""
