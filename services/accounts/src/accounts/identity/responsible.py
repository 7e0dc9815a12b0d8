"""Who answers for a match: the managers responsible for its candidates, and the reads a match list makes.

A manager is responsible for a candidate when the policy lets them decide on its team (`approve_join`): a
manager in the child's team, or in the lead professional's agency. So a match or a waiting contact goes only
to managers who already know at least one of its candidates, shows them only those, and a shielded child is
never a candidate to anyone without a named role (BRIEF §3).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from accounts.checks import record
from accounts.children.models import Child
from accounts.context import Accounts
from accounts.errors import AccessDenied
from shared.events import utc_now
from shared.policy import Decision, Principal, decide


@dataclass(frozen=True)
class Candidates:
    """A match's candidates as one manager may see them."""

    mine: tuple[Child, ...]  # the ones this manager is responsible for
    all_mine: bool  # responsible for every candidate (so may say "none of these")

    @property
    def ids(self) -> list[str]:
        return [c.child_id for c in self.mine]


def responsible_for(principal: Principal, child: Child) -> bool:
    return (
        principal.kind == "manager" and decide(principal, "approve_join", child.access, now=utc_now()).allowed
    )


async def candidates_of(ctx: Accounts, principal: Principal, child_ids: Sequence[str]) -> Candidates:
    children = [c for c in [await ctx.store.child(i) for i in child_ids] if c is not None]
    mine = tuple(c for c in children if responsible_for(principal, c))
    return Candidates(mine=mine, all_mine=len(mine) == len(children))


async def shown(
    ctx: Accounts,
    principal: Principal,
    decision: Decision,
    action: str,
    listed: Sequence[tuple[str, Sequence[str]]],
) -> None:
    """One audit record per child shown as a candidate (a match list names children: each is a read)."""
    await asyncio.gather(
        *(
            record(
                ctx,
                principal=principal,
                action=action,
                child_id=child_id,
                decision=decision,
                detail=f"candidate in {what}",
            )
            for what, child_ids in listed
            for child_id in child_ids
        )
    )


async def refuse(
    ctx: Accounts, principal: Principal, *, child_id: str | None, reason: str, what: str
) -> None:
    """Record a refusal to resolve, then raise it."""
    decision = Decision(allowed=False, reason=reason, relationship="none")
    await record(
        ctx, principal=principal, action="resolve_match", child_id=child_id, decision=decision, detail=what
    )
    raise AccessDenied(decision)
