"""The demo users of the local stack, listed on the sign-in page when `WEB_DEMO_PASSWORD` is set.

A copy of who the dev stack seeds into accounts (`devstack.demo_accounts`): a service imports neither another
service nor the dev tools.
A unit test keeps the two lists the same.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoUser:
    username: str
    name: str
    who: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("sam.okafor", "Sam Okafor", "Social worker; lead professional for Amy, Ben and Cara"),
    DemoUser("tess.morgan", "Tess Morgan", "Designated safeguarding lead at school; in Amy's team"),
    DemoUser("hana.begum", "Hana Begum", "Health visitor; in no team yet (try asking to join)"),
    DemoUser("pete.walsh", "Pete Walsh", "Police officer; in Cara's team"),
    DemoUser("rae.lindqvist", "Rae Lindqvist", "Sexual health nurse (a confidential service); in Amy's team"),
    DemoUser("mia.clarke", "Mia Clarke", "Team manager, children's social care"),
    DemoUser("kerry.example", "Kerry Example", "Parent of Amy (family view)"),
    DemoUser("amy.example", "Amy Example", "Amy herself (family view)"),
    DemoUser("dan.sample", "Dan Sample", "Parent of Ben, a shielded child (family view)"),
)
