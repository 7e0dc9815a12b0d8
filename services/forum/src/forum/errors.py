"""Every error a forum route can raise, and the HTTP status a caller gets for it."""

from __future__ import annotations

from fastapi import status

from forum.domain import EditConflict, ForumRuleBroken, PostNotFound, ThreadNotFound
from shared.errors import SHARED_STATUSES, ErrorStatuses

STATUSES: ErrorStatuses = {
    **SHARED_STATUSES,
    ThreadNotFound: status.HTTP_404_NOT_FOUND,
    PostNotFound: status.HTTP_404_NOT_FOUND,
    ForumRuleBroken: status.HTTP_422_UNPROCESSABLE_CONTENT,
    EditConflict: status.HTTP_409_CONFLICT,
}
