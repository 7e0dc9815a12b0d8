"""The local development stack: Kafka, PostgreSQL + FerretDB, and the services, as plain processes.

`./dev` (at the root of the checkout) is the entry point; `devstack.cli` holds its commands.
Tests reach the same servers through the `testsupport.fixtures` pytest plugin.
"""

from devstack.errors import DevStackError
from devstack.infra import Endpoints, ensure_infra, infra_status, start_infra, stop_infra

__all__ = ["DevStackError", "Endpoints", "ensure_infra", "infra_status", "start_infra", "stop_infra"]
