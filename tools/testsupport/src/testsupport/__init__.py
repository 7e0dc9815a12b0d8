"""Test support shared by every package: the `testsupport.fixtures` pytest plugin and helpers."""
