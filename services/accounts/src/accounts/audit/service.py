"""The audit log's use cases: store what every service reports, answer auditors, tell the family who looked."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from accounts.audit.models import VIEW_ACTIONS, AuditEntry, KnownViewer, Viewer
from accounts.audit.store import AuditStore
from accounts.audit.viewers import View
from accounts.checks import check, load_child
from accounts.children.views import HIDDEN_PROVIDER, WITHHELD_NAME
from accounts.context import Accounts
from accounts.people.store import PeopleStore
from shared import mongo
from shared.kafka.consumer import Incoming
from shared.policy import ChildAccess, Decision, Principal


async def store_entries(*, store: AuditStore, entries: Sequence[AuditEntry]) -> int:
    """Keep audit entries; an entry seen before is ignored. Returns how many were new."""
    return await store.add(entries)


async def record_views(
    *, store: AuditStore, people: PeopleStore, batch: Sequence[Incoming[AuditEntry]]
) -> None:
    """Count each allowed view of a child's record once in that child's viewers list."""
    by_viewer: dict[str, list[View]] = {}
    for item in sorted(batch, key=lambda i: (i.topic, i.partition, i.offset)):
        entry = item.event
        if entry.allowed and entry.action in VIEW_ACTIONS and entry.child_id:
            view = View(entry=entry, log=f"{item.topic}:{item.partition}", offset=item.offset)
            by_viewer.setdefault(view.key, []).append(view)
    lanes = asyncio.Semaphore(mongo.APPEND_LANES)

    async def count(views: list[View]) -> None:
        async with lanes:
            if not await store.viewers.count(views):
                person = await people.person(views[0].entry.actor_id)
                sensitive = person is not None and person.sensitive_service
                await store.viewers.first_views(views, sensitive_service=sensitive)

    async with asyncio.TaskGroup() as group:
        for views in by_viewer.values():
            group.create_task(count(views))


async def viewers(*, ctx: Accounts, principal: Principal, child_id: str) -> list[Viewer]:
    """Who has looked at the child's record, and when."""
    child = await load_child(ctx, principal, "read_viewers", child_id)
    decision = await check(ctx, principal, "read_viewers", child.access, child_id=child_id)
    known = await ctx.audit_store.viewers.of_child(child_id)
    return viewers_shown(known, access=child.access, decision=decision, viewer_id=principal.subject)


def viewers_shown(
    known: Sequence[KnownViewer], *, access: ChildAccess, decision: Decision, viewer_id: str | None = None
) -> list[Viewer]:
    """Who viewed the child's record, most recent first (`known` is). Sensitive-service staff (members,
    former members, break-glass users alike) are never identified to viewers who may not see them. For a
    shielded child, a reader without `see_address` sees each practitioner who looked by role and agency, as
    the team directory shows them, not by name or id: a name leads to the school, surgery or refuge near the
    child. Nobody is hidden from themself. To the family, other family members are counted, not named (a
    foster carer is never named to a birth parent), unless their link says to show them."""
    hidden = {m.person_id for m in access.members if m.sensitive_service}
    hidden |= {k.person_id for k in known if k.sensitive_service and k.person_id}
    result = []
    for viewer in known:
        shown = viewer.shown()
        yourself = viewer.person_id is not None and viewer.person_id == viewer_id
        if viewer.person_id in hidden and not decision.see_sensitive_providers and not yourself:
            shown = shown.model_copy(
                update={"person_id": None, "name": HIDDEN_PROVIDER, "agency": None, "role": None}
            )
        if _withheld(shown, decision=decision, viewer_id=viewer_id):
            shown = shown.model_copy(
                update={"person_id": None, "name": WITHHELD_NAME, "details_withheld": True}
            )
        result.append(shown)
    if decision.family_view:
        return _for_family(result, access=access, viewer_id=viewer_id)
    return result


def _withheld(viewer: Viewer, *, decision: Decision, viewer_id: str | None) -> bool:
    """A practitioner who looked, to a reader who may not see where the shielded child is (not themself; a
    hidden provider's neutral line names no one already)."""
    if decision.see_address or viewer.kind == "family" or viewer.person_id is None:
        return False
    return viewer.person_id != viewer_id


def _for_family(viewers: list[Viewer], *, access: ChildAccess, viewer_id: str | None) -> list[Viewer]:
    """The practitioners who looked and the viewer themself by name; the other family members as one count."""

    def named(viewer: Viewer) -> bool:
        if viewer.kind != "family" or viewer.person_id == viewer_id:
            return True
        link = access.family_link(viewer.person_id or "")
        return link is not None and link.views_shown_to_family

    shown = [v for v in viewers if named(v)]
    counted = [v for v in viewers if not named(v)]
    if counted:
        shown.append(
            Viewer(
                person_id=None,
                name=f"Other family members ({len(counted)})",
                kind="family",
                agency=None,
                role=None,
                last_viewed=max(v.last_viewed for v in counted),
                times=sum(v.times for v in counted),
                break_glass=False,
            )
        )
        shown.sort(key=lambda v: v.last_viewed, reverse=True)
    return shown


async def audit_log(
    *,
    ctx: Accounts,
    principal: Principal,
    child_id: str | None,
    actor_id: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[AuditEntry]:
    """The audit log, filtered by child, person, time and action (auditors only; their queries are logged)."""
    detail = f"actor={actor_id} action={action} since={since} until={until}"
    await check(ctx, principal, "read_audit", None, child_id=child_id, detail=detail[:500])
    return await ctx.audit_store.query(
        child_id=child_id, actor_id=actor_id, action=action, since=since, until=until, limit=limit
    )
