"""Each service's composition root says everything it consumes: the broker's subscribers are exactly the
subscriptions `app.py` declared, and those are the ones the architecture names (README, "Architecture").

The apps are only built, not started: no server is needed. A building block that subscribed by side effect,
or a subscription added without updating this table, fails here.
"""

from __future__ import annotations

import importlib

import pytest
from faststream.kafka.subscriber.usecase import BatchSubscriber

from shared.service import Runtime
from shared.topics import AGENCIES

CONTACTS = frozenset(f"contacts.{agency}" for agency in AGENCIES)

# service → {consumer group: topics}
EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    "accounts": {
        "accounts": frozenset({"audit.events", "accounts.events"}),
        "accounts.identify": CONTACTS,
    },
    "chronology": {
        "chronology": CONTACTS,
        "chronology.identified": frozenset({"identity.events"}),
        "chronology.timeline": frozenset({"accounts.events"}),
        "chronology.access": frozenset({"accounts.events"}),
        "chronology.forum": frozenset({"forum.events"}),
    },
    "analytics": {
        "analytics": CONTACTS,
        "analytics.identified": frozenset({"identity.events"}),
        "analytics.access": frozenset({"accounts.events"}),
        "analytics.cloud": CONTACTS,
        "analytics.cloud-identified": frozenset({"identity.events"}),
        "analytics.cloud-forum": frozenset({"forum.events"}),
        "analytics.scales": frozenset({"forum.events"}),
    },
    "forum": {"forum.access": frozenset({"accounts.events"})},
    "notifications": {
        "notifications": CONTACTS,
        "notifications.identified": frozenset({"identity.events"}),
        "notifications.access": frozenset({"accounts.events"}),
        "notifications.chronology": frozenset({"chronology.events"}),
        "notifications.views": frozenset({"audit.events"}),
        "notifications.forum": frozenset({"forum.events"}),
    },
}


def _runtime(service: str) -> Runtime:
    app = importlib.import_module(f"{service}.app").create_app()
    runtime = app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_the_broker_subscribes_exactly_what_the_composition_root_declares(service: str) -> None:
    runtime = _runtime(service)
    declared = {s.group_id: frozenset(s.topics) for s in runtime.subscriptions}
    subscribers = runtime.broker.subscribers
    assert all(isinstance(sub, BatchSubscriber) for sub in subscribers)  # every consumer reads in batches
    subscribed = {
        str(sub.group_id): frozenset(topic.name for topic in sub.topics)
        for sub in subscribers
        if isinstance(sub, BatchSubscriber)
    }
    assert len(runtime.broker.subscribers) == len(runtime.subscriptions)
    assert subscribed == declared
    assert declared == EXPECTED[service]


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_every_consumer_group_has_its_lag_measured(service: str) -> None:
    runtime = _runtime(service)
    lagged = {name.removeprefix("lag ") for name in runtime.lifecycle.background if name.startswith("lag ")}
    assert lagged == {s.group_id for s in runtime.subscriptions}


def test_a_consumer_group_declared_twice_is_refused() -> None:
    runtime = _runtime("forum")

    async def nothing(_: object) -> None:
        return None

    runtime.consume(["a"], decode=lambda _t, v: v, handle=nothing, title="first")
    with pytest.raises(ValueError, match="subscribed twice"):
        runtime.consume(["b"], decode=lambda _t, v: v, handle=nothing, title="second")
