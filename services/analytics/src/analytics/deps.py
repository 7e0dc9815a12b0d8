"""Typed dependencies of analytics' routes: what `create_app` put on `app.state`, and the path ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from analytics.cloud.store import CloudStore
from analytics.scales.store import ScaleStore
from analytics.store import AnalyticsStore
from shared.guard import Guard


@dataclass(frozen=True)
class Analytics:
    """What the routes need, built once in `create_app`."""

    store: AnalyticsStore
    cloud: CloudStore
    scales: ScaleStore
    guard: Guard


def get_analytics(request: Request) -> Analytics:
    analytics: Analytics = request.app.state.analytics
    return analytics


AnalyticsDep = Annotated[Analytics, Depends(get_analytics)]
ChildId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
