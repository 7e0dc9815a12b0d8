"""Safeguarding 2.0 accounts service."""
