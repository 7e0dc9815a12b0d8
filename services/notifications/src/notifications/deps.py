"""Typed dependencies of notifications' routes: what `create_app` put on `app.state`, and the path ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from pydantic import StringConstraints

from notifications.delivery import Access
from notifications.store import NotificationStore
from notifications.stream import LiveStream


@dataclass(frozen=True)
class Notifications:
    """What the routes need, built once in `create_app`."""

    store: NotificationStore
    access: Access
    stream: LiveStream
    ping_s: float


def get_notifications(request: Request) -> Notifications:
    notifications: Notifications = request.app.state.notifications
    return notifications


NotificationsDep = Annotated[Notifications, Depends(get_notifications)]
NotificationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-f0-9]+$")]
ChildIdParam = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
