"""Safeguarding 2.0 web front end: server-rendered pages over the accounts, chronology and analytics APIs."""
