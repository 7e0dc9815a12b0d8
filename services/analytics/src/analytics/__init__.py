"""Safeguarding 2.0 analytics service."""
