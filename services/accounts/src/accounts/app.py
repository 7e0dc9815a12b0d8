"""Composition root of the accounts service."""

from __future__ import annotations

from fastapi import FastAPI
from shared.service import Runtime, build_app

from accounts.settings import AccountsSettings


def create_app(settings: AccountsSettings | None = None) -> FastAPI:
    runtime = Runtime.create(settings or AccountsSettings())
    return build_app(
        runtime,
        title="Safeguarding 2.0 — accounts",
        description="Children, practitioners, families, team membership, access decisions and the audit log.",
    )
