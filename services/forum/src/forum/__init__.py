"""Safeguarding 2.0 forum service."""
