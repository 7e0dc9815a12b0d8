"""The child's page's part from accounts in one read: who the child is and who has looked at the record.

The page needs both; asking for them apart loaded the account twice. Each is still decided and audited as
its own access (`view_header`, `read_viewers`), concurrently, and a reader refused the viewers still gets
the header, with the reason, as two separate requests would have given them."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field

from accounts.audit.models import Viewer
from accounts.audit.service import viewers_shown
from accounts.checks import check, load_child, read
from accounts.children.models import Child
from accounts.children.service import header_for
from accounts.children.views import ChildHeader
from accounts.context import Accounts
from accounts.errors import AccessDenied
from shared.policy import Decision, Principal


class ChildOverview(BaseModel):
    header: ChildHeader
    viewers: list[Viewer] | None = Field(
        default=None, description="Who has viewed the record, most recent first; null when refused."
    )
    viewers_refused: str | None = Field(default=None, description="Why the viewers are not shown, if not.")


async def child_overview(*, ctx: Accounts, principal: Principal, child_id: str) -> ChildOverview:
    child = await load_child(ctx, principal, "view_header", child_id)
    decision, (viewers, refused) = await asyncio.gather(
        check(ctx, principal, "view_header", child.access, child_id=child_id),
        _viewers(ctx, principal, child),
    )
    return ChildOverview(
        header=header_for(child, decision, principal), viewers=viewers, viewers_refused=refused
    )


async def _viewers(
    ctx: Accounts, principal: Principal, child: Child
) -> tuple[list[Viewer] | None, str | None]:

    async def fetch(decision: Decision) -> list[Viewer]:
        known = await ctx.audit_store.viewers.of_child(child.child_id)
        return viewers_shown(known, access=child.access, decision=decision, viewer_id=principal.subject)

    try:
        return await read(ctx, principal, "read_viewers", child.access, fetch, child_id=child.child_id), None
    except AccessDenied as refused:
        return None, refused.decision.reason
