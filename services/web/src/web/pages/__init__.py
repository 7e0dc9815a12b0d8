"""The pages, one module per part of the site."""

from fastapi import APIRouter

from web.pages import child, children, requests, signin


def router() -> APIRouter:
    pages = APIRouter()
    for part in (signin, children, requests, child):
        pages.include_router(part.router())
    return pages
