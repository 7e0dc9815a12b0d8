"""The pages, one module per part of the site, each a module-level router."""

from fastapi import APIRouter

from web.pages import child, children, forum, notifications, requests, signin

router = APIRouter()
for part in (signin, children, requests, child, forum, notifications):
    router.include_router(part.router)
