"""Access checks every accounts use case makes first: the shared policy decides, the audit log hears.

Reads and refusals are recorded on `audit.events` before anything is returned; accepted changes are recorded
by the account events they make (the audit log reads `accounts.events` too), so a change and its record
cannot part. A refusal is raised as `AccessDenied`, which `accounts.errors` answers with 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from accounts.children.models import Child
from accounts.context import Accounts
from accounts.errors import AccessDenied, AuditUnavailable, NotFound
from shared.audit import while_recording
from shared.events import utc_now
from shared.logs import correlation_id
from shared.policy import Action, ChildAccess, Decision, Principal, decide

T = TypeVar("T")


async def check(
    ctx: Accounts,
    principal: Principal,
    action: Action,
    access: ChildAccess | None,
    *,
    child_id: str | None,
    record_allowed: bool = True,
    purpose: str | None = None,
    detail: str | None = None,
) -> Decision:
    """The policy's decision; refusals (and, if asked, permissions) go to the audit log before anything else."""
    decision = decide(principal, action, access, now=utc_now())
    if record_allowed or not decision.allowed:
        await record(
            ctx,
            principal=principal,
            action=action,
            child_id=child_id,
            decision=decision,
            purpose=purpose,
            detail=detail,
        )
    if not decision.allowed:
        raise AccessDenied(decision)
    return decision


async def read(
    ctx: Accounts,
    principal: Principal,
    action: Action,
    access: ChildAccess | None,
    fetch: Callable[[Decision], Awaitable[T]],
    *,
    child_id: str,
) -> T:
    """`check`, then `fetch(decision)`, a read, run while the access is being recorded: returned only once
    the record is acknowledged, refused if it cannot be (`shared.audit.while_recording`)."""
    decision = decide(principal, action, access, now=utc_now())
    recording = record(ctx, principal=principal, action=action, child_id=child_id, decision=decision)
    if not decision.allowed:
        await recording
        raise AccessDenied(decision)
    return await while_recording(recording, fetch(decision))


async def record(
    ctx: Accounts,
    *,
    principal: Principal,
    action: str,
    child_id: str | None,
    decision: Decision,
    purpose: str | None = None,
    detail: str | None = None,
) -> None:
    """Put one access on the audit trail; fail closed if it cannot be recorded."""
    try:
        await ctx.trail.record(
            principal=principal,
            action=action,
            child_id=child_id,
            decision=decision,
            purpose=purpose,
            detail=detail,
            correlation_id=correlation_id.get(),
        )
    except Exception as err:  # the broker is away: fail closed
        raise AuditUnavailable(
            "this access cannot be recorded right now, so it is not served; try again"
        ) from err


async def load_child(ctx: Accounts, principal: Principal, action: Action, child_id: str) -> Child:
    """The child's account; a child with none is refused (and recorded) as the policy refuses no access."""
    child = await ctx.store.child(child_id)
    if child is None:
        await check(ctx, principal, action, None, child_id=child_id, detail="no such child")
        raise NotFound("there is no account for this child")  # pragma: no cover - check raised already
    return child
