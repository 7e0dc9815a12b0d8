"""How analytics answers with a picture: SVG text (drawn by `shared.charts.svg`, which escapes what it draws)
as `image/svg+xml`, with a policy that lets the picture run nothing and load nothing."""

from __future__ import annotations

from typing import Any

from fastapi import Response

SVG = "image/svg+xml"
# An SVG opened on its own is a document: no script, no fetch, no frame; its inline presentation only.
SVG_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
SVG_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {SVG: {"schema": {"type": "string"}}}, "description": "The picture, as SVG."}
}


def svg_response(svg: str) -> Response:
    return Response(svg, media_type=SVG, headers=SVG_HEADERS)
