"""PostgreSQL: a hot read statement as a server-side prepared statement with one generic plan.

The ranked customer search is one large statement. Before running it (p50 0.9 ms at 1,000,000
customers) PostgreSQL spent about 0.6 ms planning it and 0.5 ms parsing and analysing its text,
every keystroke. Its plan does not depend on the values typed: every tier is an index range cut by
a LIMIT, so one generic plan serves every query of the same shape (measured over the benchmark's 200
queries: never slower than a plan made for the values, and 1.1 ms faster at the median).

So a statement given here is PREPAREd once per database connection, and run as

    SET LOCAL plan_cache_mode = force_generic_plan; EXECUTE fd_…(values); RESET plan_cache_mode

in one round trip. Why each part:

* SQL `PREPARE`, not the driver's protocol-level preparing: psycopg forgets (and DEALLOCATEs) its
  prepared statements at every rollback, and every read-only request ends with one. A statement
  made by `PREPARE` lives as long as the connection, whatever its transactions do.
* `plan_cache_mode` only around the EXECUTE: every other statement keeps plans made for its values
  (a filter's selectivity matters there), and PostgreSQL's own choice (`auto`) kept re-planning.
* `EXECUTE` cannot take protocol parameters, so psycopg's client-side binding (`ClientCursor`,
  the way psycopg 2 always bound values) writes the values into the EXECUTE as quoted literals.

Which statements a connection has prepared is kept in its pool record's `info`, which lives and
dies with the connection. A pooler in transaction mode (PgBouncer) hands each transaction another
server connection: set `SEARCH_PREPARED_STATEMENTS = False` (`FLASK_SEARCH_PREPARED_STATEMENTS=false`)
there. Should the server have lost a statement anyway (or have one the registry forgot), the
transaction is rolled back (search requests only read), the registry corrected, and that one query
runs the ordinary way.
"""

import hashlib
from collections import namedtuple
from dataclasses import dataclass
from functools import cache

import psycopg
from flask import current_app
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from webapp.extensions import db

REGISTRY = "frontdesk_prepared"  # key of the set of prepared names in a pooled connection's info
GENERIC = "SET LOCAL plan_cache_mode = force_generic_plan"


@dataclass(frozen=True)
class Prepared:
    """A statement in the form PREPARE takes: its name, text ($1, $2, …), parameter order, and how
    its rows come back (a named tuple per row, each value through its column type's processor)."""

    name: str
    body: str
    order: tuple[str, ...]
    defaults: dict
    row: type
    processors: tuple

    def values(self, params: dict) -> list:
        """The bound values in the order of the statement's placeholders (defaults filled in)."""
        merged = {**self.defaults, **params}
        return [merged[key] for key in self.order]

    def run_sql(self, with_prepare: bool) -> str:
        """The EXECUTE (after a PREPARE when `with_prepare`) with a generic plan, as one round trip."""
        placeholders = ", ".join(["%s"] * len(self.order))
        run = f"{GENERIC}; EXECUTE {self.name}({placeholders}); RESET plan_cache_mode"
        # The body's own % signs would read as placeholders to client-side binding.
        return f"PREPARE {self.name} AS {self.body.replace('%', '%%')}; {run}" if with_prepare else run


@cache
def numbered_dialect() -> PGDialect_psycopg:
    """PostgreSQL's dialect writing parameters as $1, $2, … (what PREPARE takes)."""
    return PGDialect_psycopg(paramstyle="numeric_dollar")


def prepare(statement) -> Prepared:
    """Compile `statement` for PREPARE (once: callers keep the result beside the statement)."""
    dialect = numbered_dialect()
    compiled = statement.compile(dialect=dialect)
    body = str(compiled)
    order = tuple(compiled.positiontup)
    # Values bound in the statement itself (literals such as separators); the caller gives the rest.
    defaults = {key: bind.value for key, bind in compiled.binds.items() if bind.value is not None}
    columns = list(statement.selected_columns)
    processors = tuple(column.type.result_processor(db.engine.dialect, None) for column in columns)
    row = namedtuple("PreparedRow", [column.key for column in columns])
    name = "fd_" + hashlib.sha1(body.encode()).hexdigest()[:20]
    return Prepared(name, body, order, defaults, row, processors)


def enabled() -> bool:
    """True on PostgreSQL unless the deployment turned prepared statements off."""
    return db.engine.dialect.name == "postgresql" and current_app.config["SEARCH_PREPARED_STATEMENTS"]


def fetch(prepared: Prepared, params: dict, fallback) -> list:
    """The rows of `prepared` for `params`, through the connection's prepared statement (made on first
    use). `fallback()` runs the statement the ordinary way if the server lost the prepared one."""
    connection = db.session.connection()  # the session's transaction, begun if need be
    made = connection.connection.info.setdefault(REGISTRY, set())
    first = prepared.name not in made
    sql = prepared.run_sql(with_prepare=first)
    values = prepared.values(params)
    cursor = psycopg.ClientCursor(connection.connection.driver_connection)
    # Report the statement like any other, so statement counters and timers see it.
    connection.dispatch.before_cursor_execute(connection, cursor, sql, values, None, False)
    try:
        cursor.execute(sql, values)
    except (psycopg.errors.InvalidSqlStatementName, psycopg.errors.DuplicatePreparedStatement) as lost:
        # The registry and the server disagree (something deallocated it, or another pooled server
        # connection answered): believe the server from now on, and answer this query the usual way.
        cursor.close()
        if isinstance(lost, psycopg.errors.DuplicatePreparedStatement):
            made.add(prepared.name)
        else:
            made.discard(prepared.name)
        db.session.rollback()
        return fallback()
    connection.dispatch.after_cursor_execute(connection, cursor, sql, values, None, False)
    if first:
        made.add(prepared.name)
    rows = []
    while True:  # the results of SET, EXECUTE, RESET (and PREPARE): only EXECUTE's has columns
        if cursor.description is not None:
            rows = cursor.fetchall()
        if not cursor.nextset():
            break
    cursor.close()
    processors, make = prepared.processors, prepared.row._make
    if any(processors):
        return [make([p(v) if p else v for p, v in zip(processors, row, strict=True)]) for row in rows]
    return [make(row) for row in rows]
