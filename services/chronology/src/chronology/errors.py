"""Every error a chronology route can raise, and the HTTP status a caller gets for it."""

from __future__ import annotations

from fastapi import status

from chronology.service import BadCursor, EntryNotFound
from shared.errors import SHARED_STATUSES, ErrorStatuses

STATUSES: ErrorStatuses = {
    **SHARED_STATUSES,
    EntryNotFound: status.HTTP_404_NOT_FOUND,
    BadCursor: status.HTTP_400_BAD_REQUEST,
}
