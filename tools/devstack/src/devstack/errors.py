"""The one error the dev stack raises on purpose: its message is for the person at the terminal."""

from __future__ import annotations


class DevStackError(Exception):
    """Something the developer must act on; the message says what went wrong and where to look."""
