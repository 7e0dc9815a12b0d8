"""Composition root of the notifications service."""

from __future__ import annotations

from fastapi import FastAPI

from notifications.settings import NotificationsSettings
from shared.errors import SHARED_STATUSES
from shared.service import Runtime, service_app


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    runtime = Runtime.create(settings or NotificationsSettings())
    return service_app(
        runtime,
        errors=SHARED_STATUSES,
        title="Safeguarding 2.0 — notifications",
        description="Practitioners' inboxes, delivery state and preferences.",
    )
