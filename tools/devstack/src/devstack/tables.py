"""FerretDB's collections as PostgreSQL sees them: their tables, GIN twins (devstack.gin) and scan counters.

For tests and benchmarks that want PostgreSQL's own word on how a query ran.
"""

from __future__ import annotations

from dataclasses import dataclass

from devstack import postgres
from devstack.paths import Ports


@dataclass(frozen=True)
class Scans:
    """PostgreSQL's own counters for one FerretDB collection table."""

    seq_scan: int
    idx_scan: int
    gin_scans: dict[str, int]  # twin index name → idx_scan


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def table_of(ports: Ports, database: str, collection: str) -> str:
    """The PostgreSQL table FerretDB keeps `database.collection` in (from the schema's metadata table)."""
    return postgres.query(
        ports,
        f"SELECT _jsonb->>'table' FROM {_ident(database)}._ferretdb_database_metadata "
        f"WHERE _jsonb->>'_id' = {_literal(collection)}",
        what=f"finding the table of {database}.{collection}",
    )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def twins(ports: Ports, schema: str, table: str) -> dict[str, str]:
    """The GIN indexes on a table: name → definition."""
    out = postgres.query(
        ports,
        f"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = {_literal(schema)} "
        f"AND tablename = {_literal(table)} AND indexdef LIKE '% USING gin %' ORDER BY 1",
        what=f"listing GIN indexes of {schema}.{table}",
    )
    return dict(line.split("|", 1) for line in out.splitlines() if line)


def drop_twins(ports: Ports, schema: str, table: str) -> int:
    """Drop a table's GIN twins (to measure the stack as FerretDB alone leaves it); returns how many."""
    names = list(twins(ports, schema, table))
    if names:
        dropped = ", ".join(f"{_ident(schema)}.{_ident(n)}" for n in names)
        postgres.query(ports, f"DROP INDEX {dropped}", what=f"dropping GIN twins of {schema}.{table}")
    return len(names)


def scans(ports: Ports, schema: str, table: str) -> Scans:
    """Sequential and index scans PostgreSQL counted on the table (its backends report them within ~1-10 s)."""
    where = f"schemaname = {_literal(schema)} AND relname = {_literal(table)}"
    row = postgres.query(
        ports,
        f"SELECT seq_scan, coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE {where}",
        what=f"reading scan counts of {schema}.{table}",
    )
    seq, idx = (int(v) for v in row.split("|"))
    per_index = postgres.query(
        ports,
        f"SELECT s.indexrelname, s.idx_scan FROM pg_stat_user_indexes s "
        f"JOIN pg_indexes i ON i.schemaname = s.schemaname AND i.indexname = s.indexrelname "
        f"WHERE s.{where} AND i.indexdef LIKE '% USING gin %'",
        what=f"reading index scan counts of {schema}.{table}",
    )
    gin_scans = {name: int(n) for name, n in (line.split("|") for line in per_index.splitlines() if line)}
    return Scans(seq_scan=seq, idx_scan=idx, gin_scans=gin_scans)
