"""The audit log's use cases: store what every service reports, answer auditors, tell the family who looked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from accounts.audit.models import VIEW_ACTIONS, AuditEntry, Viewer
from accounts.audit.store import AuditStore
from accounts.checks import check, load_child
from accounts.children.views import HIDDEN_PROVIDER
from accounts.context import Accounts
from shared.policy import ChildAccess, Decision, Principal


async def store_entries(*, store: AuditStore, entries: Sequence[AuditEntry]) -> int:
    """Keep audit entries; an entry seen before is ignored. Returns how many were new."""
    return await store.add(entries)


async def viewers(*, ctx: Accounts, principal: Principal, child_id: str) -> list[Viewer]:
    """Who has looked at the child's record, and when."""
    child = await load_child(ctx, principal, "read_viewers", child_id)
    decision = await check(ctx, principal, "read_viewers", child.access, child_id=child_id)
    entries = await ctx.audit_store.query(child_id=child_id, allowed=True, actions=VIEW_ACTIONS, limit=5000)
    return viewers_of(entries, access=child.access, decision=decision, viewer_id=principal.subject)


def viewers_of(
    entries: Sequence[AuditEntry], *, access: ChildAccess, decision: Decision, viewer_id: str | None = None
) -> list[Viewer]:
    """Who viewed the child's record, most recent first (`entries` are newest first); confidential-service
    staff are hidden from viewers who may not see them. To the family, other family members are counted,
    not named (a foster carer is never named to a birth parent), unless their link says to show them."""
    by_actor: dict[str, Viewer] = {}
    for entry in entries:
        seen = by_actor.get(entry.actor_id)
        if seen is not None:
            by_actor[entry.actor_id] = seen.model_copy(
                update={"times": seen.times + 1, "break_glass": seen.break_glass or entry.break_glass}
            )
            continue
        by_actor[entry.actor_id] = Viewer(
            person_id=entry.actor_id,
            name=entry.actor_name,
            kind=entry.actor_kind,
            agency=entry.actor_agency,
            role=entry.actor_role,
            last_viewed=entry.at,
            times=1,
            break_glass=entry.break_glass,
        )
    hidden = {m.person_id for m in access.members if m.sensitive_service}
    result = []
    for actor_id, viewer in by_actor.items():
        if actor_id in hidden and not decision.see_sensitive_providers:
            viewer = viewer.model_copy(
                update={"person_id": None, "name": HIDDEN_PROVIDER, "agency": None, "role": None}
            )
        result.append(viewer)
    if decision.family_view:
        return _for_family(result, access=access, viewer_id=viewer_id)
    return result


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
