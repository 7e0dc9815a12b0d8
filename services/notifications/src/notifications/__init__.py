"""Safeguarding 2.0 notifications service."""
