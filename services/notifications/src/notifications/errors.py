"""Every error a notifications route can raise, and the HTTP status a caller gets for it."""

from __future__ import annotations

from shared.errors import SHARED_STATUSES, ErrorStatuses

STATUSES: ErrorStatuses = {**SHARED_STATUSES}
