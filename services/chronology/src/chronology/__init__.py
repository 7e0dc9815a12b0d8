"""Safeguarding 2.0 chronology service."""
