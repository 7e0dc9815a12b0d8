"""The local development stack: Kafka, PostgreSQL + FerretDB, and the services, as plain processes.

`./dev` (at the root of the checkout) is the entry point; `shared.devstack.cli` holds its commands.
Tests reach the same servers through the `shared.testing.fixtures` pytest plugin.
"""

from shared.devstack.errors import DevStackError
from shared.devstack.infra import Endpoints, ensure_infra, infra_status, start_infra, stop_infra

__all__ = ["DevStackError", "Endpoints", "ensure_infra", "infra_status", "start_infra", "stop_infra"]
