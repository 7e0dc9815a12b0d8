"""GIN twins: the indexes FerretDB 1.24 can actually use, added beside the ones it creates (local stack only).

FerretDB 1.24 creates B-tree indexes on `(_jsonb -> 'field')` but filters with `_jsonb -> 'field' @> value`,
which a B-tree cannot serve, so every find, count and `_id` lookup scans the whole table (FerretDB issue
#4646; the project brief, §5). A GIN index on the same expression serves `@>`, provided the planner sees the
field name as a constant: hence `plan_cache_mode = force_custom_plan` in `devstack.postgres`.

The twins are made inside PostgreSQL by an event trigger on `CREATE INDEX`, so they exist as soon as the
index FerretDB builds for a declared index (or for `_id`, when it creates a collection) does: in the same
transaction, under the table lock FerretDB already holds, with no process to keep running and nothing to
poll. A twin that cannot be built is a WARNING in PostgreSQL's log, never an error for FerretDB (the trigger
catches everything). Production runs real MongoDB, which uses its own indexes; nothing here reaches it.

`install` (run each time the dev stack starts or reuses PostgreSQL) also backfills twins for indexes made
before the trigger existed, one table per transaction, giving up on a table that stays locked.
"""

from __future__ import annotations

TRIGGER = "sg_gin_twins"

# One twin per key of a B-tree index on a FerretDB collection table (one with a `_jsonb` column, not
# FerretDB's own metadata table). FerretDB writes keys as `((_jsonb -> 'a'))` or, for a dotted field,
# `((_jsonb -> 'a') -> 'b')`; it filters dotted fields with `_jsonb #> '{a,b}'`, so that twin is built on
# the path form. The twin's name is a hash of table and expression: a field in several indexes gets one twin.
FUNCTIONS_SQL = r"""
CREATE OR REPLACE FUNCTION public.sg_gin_twins_for(idx oid) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
  tbl oid;
  nsp text;
  rel text;
  k integer;
  expr text;
  parts text[];
  twin_expr text;
  twin text;
  made integer := 0;
BEGIN
  SELECT i.indrelid, n.nspname, c.relname INTO tbl, nsp, rel
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE i.indexrelid = idx AND am.amname = 'btree' AND c.relname NOT LIKE '\_ferretdb\_%'
     AND EXISTS (SELECT 1 FROM pg_attribute a
                  WHERE a.attrelid = i.indrelid AND a.attname = '_jsonb' AND NOT a.attisdropped);
  IF tbl IS NULL THEN
    RETURN 0;
  END IF;
  FOR k IN 1 .. (SELECT indnkeyatts FROM pg_index WHERE indexrelid = idx) LOOP
    BEGIN
      expr := pg_get_indexdef(idx, k, false);
      SELECT array_agg(replace(m[1], '''''', '''')) INTO parts
        FROM regexp_matches(expr, '''((?:[^'']|'''')*)''::text', 'g') AS m;
      IF expr NOT LIKE '%_jsonb%' OR parts IS NULL THEN
        CONTINUE;
      END IF;
      twin_expr := CASE WHEN cardinality(parts) = 1 THEN format('(_jsonb -> %L)', parts[1])
                        ELSE format('(_jsonb #> %L::text[])', parts::text) END;
      twin := left(rel, 40) || '_gin_' || left(md5(tbl::text || twin_expr), 12);
      CONTINUE WHEN EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE n.nspname = nsp AND c.relname = twin);
      EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin (%s)', twin, nsp, rel, twin_expr);
      made := made + 1;
    EXCEPTION WHEN OTHERS THEN
      RAISE WARNING 'sg_gin_twins: no GIN twin for key % of index % on %.%: % (%)',
        k, idx::regclass, nsp, rel, SQLERRM, SQLSTATE;
    END;
  END LOOP;
  RETURN made;
EXCEPTION WHEN OTHERS THEN
  RAISE WARNING 'sg_gin_twins: index %: % (%)', idx, SQLERRM, SQLSTATE;
  RETURN made;
END
$fn$;

CREATE OR REPLACE FUNCTION public.sg_gin_twins_on_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands()
            WHERE command_tag = 'CREATE INDEX' AND object_type = 'index' LOOP
    PERFORM public.sg_gin_twins_for(r.objid);
  END LOOP;
EXCEPTION WHEN OTHERS THEN
  RAISE WARNING 'sg_gin_twins: %: % (%)', TG_TAG, SQLERRM, SQLSTATE;
END
$fn$;

CREATE OR REPLACE PROCEDURE public.sg_gin_twins_backfill()
LANGUAGE plpgsql AS $fn$
DECLARE
  r record;
BEGIN
  -- A table FerretDB holds locked is skipped (its twin comes from the trigger when FerretDB next creates an
  -- index there, or from the next backfill) rather than waited for.
  PERFORM set_config('lock_timeout', '2s', false);
  FOR r IN SELECT i.indexrelid FROM pg_index i
             JOIN pg_class ic ON ic.oid = i.indexrelid
             JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname = '_jsonb'
            WHERE i.indexprs IS NOT NULL LOOP
    PERFORM public.sg_gin_twins_for(r.indexrelid);
    COMMIT;
  END LOOP;
END
$fn$;
"""

TRIGGER_SQL = f"""
BEGIN;
DROP EVENT TRIGGER IF EXISTS {TRIGGER};
CREATE EVENT TRIGGER {TRIGGER} ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION public.sg_gin_twins_on_ddl();
COMMIT;
"""

# Alone in its command: a procedure that commits cannot run inside psql's implicit multi-statement transaction.
BACKFILL_SQL = "CALL public.sg_gin_twins_backfill()"


def statements() -> list[tuple[str, str]]:
    """What `install` runs, in order, each as its own psql command: (what, SQL)."""
    return [
        ("installing the GIN twin functions", FUNCTIONS_SQL),
        ("installing the GIN twin event trigger", TRIGGER_SQL),
        ("backfilling GIN twins", BACKFILL_SQL),
    ]
