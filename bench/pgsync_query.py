"""Times PGSync's own document query for a batch of N root keys, as its daemon runs it per batch.

Run with the benchmark's PGSync virtual environment, in the PGSync working directory (schema.json,
PGSync's settings in the environment):

    python pgsync_query.py <max book id> <batch size> [<batch size> ...]

Prints one JSON object: {"<batch size>": {"seconds": s, "throughRows": n}, ...}. `seconds` is the
median of three runs (one from 10 roots up) of `Sync.sync(filters={"book": [...]})` (PGSync builds
the query, fetches and transforms the rows) for distinct book ids spread over the table.
`throughRows` is how many rows of the schema's through tables PostgreSQL read for that query
(EXPLAIN ANALYZE of the query PGSync builds, the same way `Sync.sync` builds it). Validation is
skipped, so no replication slot is touched.
"""

import json
import statistics
import sys
import time

from sqlalchemy.dialects import postgresql

from pgsync.sync import Sync


def through_tables(node: dict) -> set:
    """The through tables named anywhere in a schema node tree."""
    found = set(node.get("relationship", {}).get("through_tables", []))
    for child in node.get("children", []):
        found |= through_tables(child)
    return found


def built_query(sync: Sync, filters: dict):
    """The root query PGSync runs for `filters` (the steps of `Sync.sync` before it fetches)."""
    sync.query_builder.isouter = True
    node = None
    for node in sync.tree.traverse_post_order():
        node._subquery = None
        node._filters = []
        node.setup()
        sync.query_builder.build_queries(node, filters=filters)
    return node._subquery


def rows_read(plan: dict, tables: set) -> int:
    """Rows the plan read from `tables` (actual rows times loops of their scans)."""
    own = plan["Actual Rows"] * plan["Actual Loops"] if plan.get("Relation Name") in tables else 0
    return own + sum(rows_read(p, tables) for p in plan.get("Plans", []))


def main() -> None:
    books = int(sys.argv[1])
    sizes = [int(a) for a in sys.argv[2:]]
    with open("schema.json") as f:
        doc = json.load(f)[0]
    tables = through_tables(doc["nodes"])
    sync = Sync(doc, validate=False)
    result = {}
    for size in sizes:
        runs = []
        # Three runs for the cheap sizes, one for the slow ones (each costs seconds there).
        for attempt in range(3 if size <= 2 else 1):
            step = max(1, books // (size + 1))
            ids = [1 + ((i + 1) * step + attempt) % books for i in range(size)]
            filters = {"book": [{"id": i} for i in ids]}
            started = time.perf_counter()
            docs = list(sync.sync(filters=filters))
            runs.append(time.perf_counter() - started)
            if len(docs) != size:
                raise SystemExit(f"expected {size} documents, PGSync built {len(docs)}")
        sql = str(built_query(sync, filters).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        with sync.engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}").scalar()
        result[str(size)] = {
            "seconds": round(statistics.median(runs), 3),
            "throughRows": rows_read(plan[0]["Plan"], tables),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
