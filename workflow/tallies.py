"""The tallies the database keeps itself — cases per cell and state (CaseTally, the
dashboard's counts) and per month under each organisation (CeremonyTally, OutcomeTally,
the reports' whole months): their tables, the triggers that keep them right in the same
transaction as the rows they count, per dialect, their first fills, and the
`after_create` listeners that make those wherever the schema is created by create_all (a
test schema, a reused benchmark dataset) — as migrations 0010 and 0012 make them. Row
triggers on SQLite; statement-level triggers over transition tables on PostgreSQL, tally
rows written in key order (no deadlock between two writers of the same cells). The
models module names the tables with the others (workflow.models.CaseTally …)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, event
from sqlmodel import Field, SQLModel


class CaseTally(SQLModel, table=True):
    """How many cases each cell has in each state: the dashboard's counts, read from a
    few thousand rows instead of counting a province's million cases at every visit.

    Kept by the database itself — triggers on "case" (CASE_TALLY_DDL), so every write
    path (the engine, the import, a copy between databases, benchmark data) keeps it
    right, in the same transaction as the case row. Derived: never copied, never edited.
    """

    __tablename__ = "case_tally"
    org_path: str = Field(primary_key=True)  # the cell's path (Case.org_path)
    state: str = Field(primary_key=True)
    n: int = 0


# Tables the database derives from others (triggers): a copy between databases leaves
# them to the triggers instead of copying their rows.
DERIVED_TABLES = ("case_tally", "ceremony_tally", "outcome_tally")


class CeremonyTally(SQLModel, table=True):
    """Ceremonies held per month under each organisation, and their new members counted
    by each key of the breakdown: the reports over whole months read a few thousand rows
    of this table instead of joining a decade of ceremonies to their persons.

    A case whose ceremony is recorded counts, for the month of `Case.ceremony_on`, once
    at its cell's own path (dimension `at`, value "") and, under every organisation ABOVE
    its cell (each strict prefix of `Case.org_path`: "/1/" and "/1/4/" for a cell
    "/1/4/9/"), once per dimension: `ceremonies` (value ""), and from its person
    `gender`, `youth` ("1"/"0"), `ethnicity`, `religion`, `education` (NULL as the
    breakdown's query reads it: "Kinh", "", ""), `occupation` and `band` (the index in
    AGE_BANDS of the age at the ceremony, as reports.sql.AgeBand computes it). So the
    ceremonies of an organisation's subtree are its `ceremonies` plus its `at`; a cell's
    breakdown (a few hundred cases a decade) is counted from "case".

    Kept by the database itself, like CaseTally: triggers on "case" (a ceremony recorded,
    moved, undone; a case moved to another cell, deleted) and on person (particulars
    corrected), in the same transaction (CEREMONY_TALLY_DDL). Rows whose count returned
    to 0 stay (read as absent). Derived: never copied, never edited.
    """

    __tablename__ = "ceremony_tally"
    # Key order: a report reads one organisation's few dimensions over a range of months
    org_path: str = Field(primary_key=True)  # an organisation above the cases' cells
    dim: str = Field(primary_key=True)  # CEREMONY_DIMENSIONS
    month: int = Field(primary_key=True)  # year × 12 + month − 1 of the ceremony
    value: str = Field(primary_key=True)
    n: int = 0


class OutcomeTally(SQLModel, table=True):
    """Confirmations as official members and removals per month under each organisation:
    report 3 over whole months reads these rows instead of counting a decade of cases.

    A case counts in `confirmed` for the month of `Case.official_on`, and in `removed`
    for the month of `Case.closed_on` while its state is "removed": under every
    organisation above its cell (each strict prefix of `Case.org_path`), and as
    `confirmed_at` / `removed_at` at its cell's own path — so an organisation's subtree
    counts its `confirmed` plus its `confirmed_at`. Kept by triggers on "case" like
    CeremonyTally (OUTCOME_TALLY_DDL); derived: never copied, never edited.
    """

    __tablename__ = "outcome_tally"
    org_path: str = Field(primary_key=True)
    measure: str = Field(primary_key=True)  # confirmed | removed, each also …_at
    month: int = Field(primary_key=True)  # year × 12 + month − 1
    n: int = 0


TALLY_FILL = (
    "INSERT INTO case_tally (org_path, state, n) "
    'SELECT org_path, state, count(*) FROM "case" GROUP BY org_path, state'
)
_SQLITE_ADD = (
    "INSERT INTO case_tally (org_path, state, n) VALUES (NEW.org_path, NEW.state, 1) "
    "ON CONFLICT (org_path, state) DO UPDATE SET n = n + 1;"
)
_SQLITE_REMOVE = (
    "UPDATE case_tally SET n = n - 1 WHERE org_path = OLD.org_path AND state = OLD.state;"
)
# PostgreSQL: statement-level triggers over the transition tables, so that a COPY or a
# batch of cases costs one aggregate, and the tally rows are locked in one order (no
# deadlock between two transactions moving cases of the same cells).
_PG_UPSERT = (
    "INSERT INTO case_tally (org_path, state, n) SELECT org_path, state, sum(n) FROM ({}) d "
    "GROUP BY org_path, state ORDER BY org_path, state "
    "ON CONFLICT (org_path, state) DO UPDATE SET n = case_tally.n + excluded.n"
)
_PG_MOVED = (
    "SELECT a.org_path, a.state, 1 AS n FROM added a JOIN removed r ON r.id = a.id "
    "WHERE (a.org_path, a.state) IS DISTINCT FROM (r.org_path, r.state) UNION ALL "
    "SELECT r.org_path, r.state, -1 FROM added a JOIN removed r ON r.id = a.id "
    "WHERE (a.org_path, a.state) IS DISTINCT FROM (r.org_path, r.state)"
)
_PG_FUNCTIONS = {
    "insert": _PG_UPSERT.format("SELECT org_path, state, 1 AS n FROM added"),
    "delete": _PG_UPSERT.format("SELECT org_path, state, -1 AS n FROM removed"),
    "update": _PG_UPSERT.format(_PG_MOVED),
}
_PG_REFERENCING = {
    "insert": "REFERENCING NEW TABLE AS added",
    "delete": "REFERENCING OLD TABLE AS removed",
    "update": "REFERENCING OLD TABLE AS removed NEW TABLE AS added",
}
CASE_TALLY_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        f'CREATE TRIGGER case_tally_insert AFTER INSERT ON "case" BEGIN {_SQLITE_ADD} END',
        f'CREATE TRIGGER case_tally_delete AFTER DELETE ON "case" BEGIN {_SQLITE_REMOVE} END',
        'CREATE TRIGGER case_tally_update AFTER UPDATE OF state, org_path ON "case" '
        "WHEN OLD.state IS NOT NEW.state OR OLD.org_path IS NOT NEW.org_path "
        f"BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
        TALLY_FILL,
    ),
    "postgresql": (
        *(
            f"CREATE FUNCTION case_tally_{op}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {sql}; RETURN NULL; END $$"
            for op, sql in _PG_FUNCTIONS.items()
        ),
        *(
            f'CREATE TRIGGER case_tally_{op} AFTER {op.upper()} ON "case" '
            f"{_PG_REFERENCING[op]} FOR EACH STATEMENT EXECUTE FUNCTION case_tally_{op}()"
            for op in _PG_FUNCTIONS
        ),
        TALLY_FILL,
    ),
}


def _keep_the_tally(table: Any, connection: Any, **_kw: Any) -> None:
    """create_all (a reused benchmark dataset, a test schema): the triggers and the first
    fill, as migration 0007_scale makes them."""
    for statement in CASE_TALLY_DDL.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


CEREMONY_DIMENSIONS = (
    "at",
    "ceremonies",
    "gender",
    "youth",
    "ethnicity",
    "religion",
    "education",
    "occupation",
    "band",
)
# The tally holds a prefix only up to this length (SQLite's triggers try each position);
# a report for an organisation with a longer path counts from "case".
CEREMONY_TALLY_MAX_PATH = 120

_AGE_BOUNDS = (18, 31, 41, 51, 61)  # reports.categories.AGE_BANDS' lower bounds


def _sqlite_band(birth: str, on: str) -> str:
    age = (
        f"(CAST(substr({on}, 1, 4) AS INTEGER) - CAST(substr({birth}, 1, 4) AS INTEGER)"
        f" - (CASE WHEN substr({on}, 6, 5) < substr({birth}, 6, 5) THEN 1 ELSE 0 END))"
    )
    first, last = _AGE_BOUNDS[0], len(_AGE_BOUNDS)
    return f"(CASE WHEN {age} < {first} THEN 0 ELSE min(max(({age} - 1) / 10 - 1, 1), {last}) END)"


def _pg_band(birth: str, on: str) -> str:
    age = (
        f"CAST(EXTRACT(year FROM age(CAST({on} AS timestamp), CAST({birth} AS timestamp)))"
        " AS INTEGER)"
    )
    return f"width_bucket({age}, ARRAY[{', '.join(map(str, _AGE_BOUNDS))}])"


_MONTH = {
    "sqlite": lambda d: (
        f"(CAST(substr({d}, 1, 4) AS INTEGER) * 12 + CAST(substr({d}, 6, 2) AS INTEGER) - 1)"
    ),
    "postgresql": lambda d: (
        f"CAST(EXTRACT(year FROM {d}) * 12 + EXTRACT(month FROM {d}) - 1 AS INTEGER)"
    ),
}
_BAND = {"sqlite": _sqlite_band, "postgresql": _pg_band}


def _dimension_value(dialect: str, person: str, on: str) -> str:
    """The value of dimension d.dim for a person (alias) whose ceremony is on `on`."""
    p = person
    return (
        "CASE d.dim WHEN 'at' THEN '' WHEN 'ceremonies' THEN ''"
        f" WHEN 'gender' THEN coalesce({p}.gender, '')"
        f" WHEN 'youth' THEN CASE WHEN {p}.youth_union_member THEN '1' ELSE '0' END"
        f" WHEN 'ethnicity' THEN coalesce({p}.ethnicity, 'Kinh')"
        f" WHEN 'religion' THEN coalesce({p}.religion, '')"
        f" WHEN 'education' THEN coalesce({p}.education, '')"
        f" WHEN 'occupation' THEN coalesce({p}.occupation, '')"
        f" ELSE CAST({_BAND[dialect](f'{p}.birth_date', on)} AS TEXT) END"
    )


# SQLite has no generate_series: the positions a prefix may end at, and the dimensions,
# are rows of json_each over one constant — a trigger holding them as VALUES lists took
# milliseconds to compile into every statement that writes "case".
_SQLITE_POSITIONS = (
    f"json_each('[{','.join(str(i) for i in range(2, CEREMONY_TALLY_MAX_PATH + 1))}]') l"
)


def _json_names(with_ceremonies: bool) -> str:
    names = CEREMONY_DIMENSIONS if with_ceremonies else CEREMONY_DIMENSIONS[2:]
    return "[" + ",".join(f'"{d}"' for d in names) + "]"


def _dimensions(with_ceremonies: bool) -> str:
    names = CEREMONY_DIMENSIONS if with_ceremonies else CEREMONY_DIMENSIONS[2:]
    return "(VALUES " + ", ".join(f"('{d}')" for d in names) + ")"


def _contributions(dialect: str, case: str, person: str | None, sign: int, source: str) -> str:
    """One row (path, month, dim, value, ±1) per dimension and organisation above the
    cell (`at`: the cell) of each case `case` (an alias or NEW/OLD) with a ceremony. `person` is the
    person's alias (None: joined from person, where `at` and `ceremonies` need none)."""
    joined = person is None
    p = "p" if joined else person
    assert p is not None
    length = f"length({case}.org_path)"
    if dialect == "sqlite":
        prefixes, at = _SQLITE_POSITIONS, "l.value"
        dims = f"(SELECT value AS dim FROM json_each('{_json_names(joined)}')) d"
    else:
        prefixes, at = f"LATERAL generate_series(2, {length}) l(i)", "l.i"
        dims = f"{_dimensions(joined)} d(dim)"
    # `at` at the cell's own path only, the other dimensions at the paths above it
    where_prefix = (
        f"substr({case}.org_path, {at}, 1) = '/' AND "
        f"(d.dim = 'at' AND {at} = {length} OR d.dim <> 'at' AND {at} < {length})"
    )
    join = f" LEFT JOIN person p ON p.id = {case}.person_id" if joined else ""
    tables = (
        f"{source}{join} CROSS JOIN {prefixes} CROSS JOIN {dims}"
        if source
        else f"{prefixes} CROSS JOIN {dims}{join}"
    )
    has_person = " AND (d.dim IN ('at', 'ceremonies') OR p.id IS NOT NULL)" if joined else ""
    return (
        f"SELECT substr({case}.org_path, 1, {at}) AS org_path,"
        f" {_MONTH[dialect](f'{case}.ceremony_on')} AS month, d.dim AS dim,"
        f" {_dimension_value(dialect, p, f'{case}.ceremony_on')} AS value, {sign} AS n"
        f" FROM {tables} WHERE {case}.ceremony_on IS NOT NULL AND {where_prefix}{has_person}"
    )


_CEREMONY_KEY = "(org_path, dim, month, value)"
_PERSON_KEYS = (
    "gender",
    "youth_union_member",
    "ethnicity",
    "religion",
    "education",
    "occupation",
    "birth_date",
)


def _sqlite_upsert(select: str) -> str:
    return (
        f"INSERT INTO ceremony_tally (org_path, month, dim, value, n) {select} "
        f"ON CONFLICT {_CEREMONY_KEY} DO UPDATE SET n = n + excluded.n;"
    )


def _sqlite_ceremony_ddl() -> tuple[str, ...]:
    def case_rows(alias: str, sign: int) -> str:
        return _sqlite_upsert(_contributions("sqlite", alias, None, sign, ""))

    def person_rows(alias: str, sign: int) -> str:
        source = '"case" c'
        select = _contributions("sqlite", "c", alias, sign, source)
        return _sqlite_upsert(f"{select} AND c.person_id = {alias}.id")

    moved = " OR ".join(f"OLD.{k} IS NOT NEW.{k}" for k in ("ceremony_on", "org_path", "person_id"))
    corrected = " OR ".join(f"OLD.{k} IS NOT NEW.{k}" for k in _PERSON_KEYS)
    fill = _contributions("sqlite", "c", None, 1, '"case" c')
    return (
        'CREATE TRIGGER ceremony_tally_insert AFTER INSERT ON "case" '
        f"WHEN NEW.ceremony_on IS NOT NULL BEGIN {case_rows('NEW', 1)} END",
        'CREATE TRIGGER ceremony_tally_delete AFTER DELETE ON "case" '
        f"WHEN OLD.ceremony_on IS NOT NULL BEGIN {case_rows('OLD', -1)} END",
        "CREATE TRIGGER ceremony_tally_update AFTER UPDATE OF ceremony_on, org_path, person_id "
        f'ON "case" WHEN {moved} BEGIN {case_rows("OLD", -1)} {case_rows("NEW", 1)} END',
        f"CREATE TRIGGER ceremony_tally_person AFTER UPDATE OF {', '.join(_PERSON_KEYS)} "
        f"ON person WHEN {corrected} BEGIN {person_rows('OLD', -1)} {person_rows('NEW', 1)} END",
        "INSERT INTO ceremony_tally (org_path, month, dim, value, n) "
        f"SELECT org_path, month, dim, value, sum(n) FROM ({fill}) f "
        "GROUP BY org_path, month, dim, value",
    )


def _pg_upsert(rows: str) -> str:
    return (
        "INSERT INTO ceremony_tally (org_path, month, dim, value, n) "
        f"SELECT org_path, month, dim, value, sum(n) FROM ({rows}) x "
        "GROUP BY org_path, dim, month, value HAVING sum(n) <> 0 "
        "ORDER BY org_path, dim, month, value "
        f"ON CONFLICT {_CEREMONY_KEY} DO UPDATE SET n = ceremony_tally.n + excluded.n"
    )


def _pg_ceremony_ddl() -> tuple[str, ...]:
    def case_rows(table: str, sign: int, where: str = "") -> str:
        return _contributions("postgresql", "c", None, sign, f"{table} c{where}")

    moved_ids = (
        "(SELECT a.* FROM added a JOIN removed r ON r.id = a.id WHERE "
        "(a.ceremony_on, a.org_path, a.person_id) IS DISTINCT FROM "
        "(r.ceremony_on, r.org_path, r.person_id))"
    )
    was = moved_ids.replace("SELECT a.*", "SELECT r.*")
    corrected = " OR ".join(f"a.{k} IS DISTINCT FROM r.{k}" for k in _PERSON_KEYS)
    changed = f"(SELECT a.id FROM added a JOIN removed r ON r.id = a.id WHERE {corrected})"

    def person_rows(table: str, sign: int) -> str:
        source = f'"case" c JOIN {table} q ON q.id = c.person_id AND q.id IN {changed}'
        return _contributions("postgresql", "c", "q", sign, source)

    functions = {
        "insert": case_rows("added", 1),
        "delete": case_rows("removed", -1),
        "update": f"{case_rows(was, -1)} UNION ALL {case_rows(moved_ids, 1)}",
        "person": f"{person_rows('removed', -1)} UNION ALL {person_rows('added', 1)}",
    }
    referencing = {
        "insert": 'INSERT ON "case" REFERENCING NEW TABLE AS added',
        "delete": 'DELETE ON "case" REFERENCING OLD TABLE AS removed',
        "update": 'UPDATE ON "case" REFERENCING OLD TABLE AS removed NEW TABLE AS added',
        "person": "UPDATE ON person REFERENCING OLD TABLE AS removed NEW TABLE AS added",
    }
    fill = _contributions("postgresql", "c", None, 1, '"case" c')
    return (
        *(
            f"CREATE FUNCTION ceremony_tally_{op}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {_pg_upsert(rows)}; RETURN NULL; END $$"
            for op, rows in functions.items()
        ),
        *(
            f"CREATE TRIGGER ceremony_tally_{op} AFTER {referencing[op]} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION ceremony_tally_{op}()"
            for op in functions
        ),
        "INSERT INTO ceremony_tally (org_path, month, dim, value, n) "
        f"SELECT org_path, month, dim, value, sum(n) FROM ({fill}) f "
        "GROUP BY org_path, month, dim, value",
    )


CEREMONY_TALLY_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": _sqlite_ceremony_ddl(),
    "postgresql": _pg_ceremony_ddl(),
}


# Each measure: the date whose month it counts in, and when a case counts at all.
_OUTCOMES = (("confirmed", "official_on", ""), ("removed", "closed_on", "state = 'removed'"))


def _outcome_rows(dialect: str, case: str, sign: int, source: str) -> str:
    """One row (path, measure, month, ±1) per measure a case `case` counts in and per
    organisation above its cell (…_at: the cell itself)."""
    length = f"length({case}.org_path)"
    if dialect == "sqlite":
        prefixes, at = _SQLITE_POSITIONS, "l.value"
    else:
        prefixes, at = f"LATERAL generate_series(2, {length}) l(i)", "l.i"
    tables = f"{source} CROSS JOIN {prefixes}" if source else prefixes
    selects = []
    for measure, day, only in _OUTCOMES:
        condition = f" AND {case}.{only}" if only else ""
        selects.append(
            f"SELECT substr({case}.org_path, 1, {at}) AS org_path, CASE WHEN {at} = {length} "
            f"THEN '{measure}_at' ELSE '{measure}' END AS measure, "
            f"{_MONTH[dialect](f'{case}.{day}')} AS month, {sign} AS n FROM {tables} "
            f"WHERE {case}.{day} IS NOT NULL{condition} AND substr({case}.org_path, {at}, 1) = '/'"
        )
    return " UNION ALL ".join(selects)


_OUTCOME_KEY = "(org_path, measure, month)"
_OUTCOME_COLUMNS = ("official_on", "closed_on", "state", "org_path")


def _outcome_fill(dialect: str) -> str:
    rows = _outcome_rows(dialect, "c", 1, '"case" c')
    return (
        "INSERT INTO outcome_tally (org_path, measure, month, n) "
        f"SELECT org_path, measure, month, sum(n) FROM ({rows}) f "
        "GROUP BY org_path, measure, month"
    )


def _sqlite_outcome_ddl() -> tuple[str, ...]:
    def rows(alias: str, sign: int) -> str:
        return (
            "INSERT INTO outcome_tally (org_path, measure, month, n) SELECT * FROM "
            f"({_outcome_rows('sqlite', alias, sign, '')}) WHERE true "
            f"ON CONFLICT {_OUTCOME_KEY} DO UPDATE SET n = n + excluded.n;"
        )

    # a change of state counts only to or from "removed"
    moved = (
        " OR ".join(f"OLD.{k} IS NOT NEW.{k}" for k in ("official_on", "closed_on", "org_path"))
        + " OR (OLD.state = 'removed') IS NOT (NEW.state = 'removed')"
    )
    return (
        'CREATE TRIGGER outcome_tally_insert AFTER INSERT ON "case" '
        "WHEN NEW.official_on IS NOT NULL OR NEW.closed_on IS NOT NULL "
        f"BEGIN {rows('NEW', 1)} END",
        'CREATE TRIGGER outcome_tally_delete AFTER DELETE ON "case" '
        "WHEN OLD.official_on IS NOT NULL OR OLD.closed_on IS NOT NULL "
        f"BEGIN {rows('OLD', -1)} END",
        f"CREATE TRIGGER outcome_tally_update AFTER UPDATE OF {', '.join(_OUTCOME_COLUMNS)} "
        f'ON "case" WHEN {moved} BEGIN {rows("OLD", -1)} {rows("NEW", 1)} END',
        _outcome_fill("sqlite"),
    )


def _pg_outcome_ddl() -> tuple[str, ...]:
    def upsert(rows: str) -> str:
        return (
            "INSERT INTO outcome_tally (org_path, measure, month, n) "
            f"SELECT org_path, measure, month, sum(n) FROM ({rows}) x "
            "GROUP BY org_path, measure, month HAVING sum(n) <> 0 "
            "ORDER BY org_path, measure, month "
            f"ON CONFLICT {_OUTCOME_KEY} DO UPDATE SET n = outcome_tally.n + excluded.n"
        )

    changed = (
        "(SELECT {side}.* FROM added a JOIN removed r ON r.id = a.id WHERE "
        "(a.official_on, a.closed_on, a.org_path, a.state = 'removed') IS DISTINCT FROM "
        "(r.official_on, r.closed_on, r.org_path, r.state = 'removed'))"
    )
    was, now = changed.format(side="r"), changed.format(side="a")
    functions = {
        "insert": _outcome_rows("postgresql", "c", 1, "added c"),
        "delete": _outcome_rows("postgresql", "c", -1, "removed c"),
        "update": f"{_outcome_rows('postgresql', 'c', -1, f'{was} c')} UNION ALL "
        f"{_outcome_rows('postgresql', 'c', 1, f'{now} c')}",
    }
    referencing = {
        "insert": 'INSERT ON "case" REFERENCING NEW TABLE AS added',
        "delete": 'DELETE ON "case" REFERENCING OLD TABLE AS removed',
        "update": 'UPDATE ON "case" REFERENCING OLD TABLE AS removed NEW TABLE AS added',
    }
    return (
        *(
            f"CREATE FUNCTION outcome_tally_{op}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {upsert(rows)}; RETURN NULL; END $$"
            for op, rows in functions.items()
        ),
        *(
            f"CREATE TRIGGER outcome_tally_{op} AFTER {referencing[op]} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION outcome_tally_{op}()"
            for op in functions
        ),
        _outcome_fill("postgresql"),
    )


OUTCOME_TALLY_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": _sqlite_outcome_ddl(),
    "postgresql": _pg_outcome_ddl(),
}


_DERIVED_DDL = {"ceremony_tally": CEREMONY_TALLY_DDL, "outcome_tally": OUTCOME_TALLY_DDL}


def _monthly_tally_created(table: Any, connection: Any, **_kw: Any) -> None:
    connection.info.setdefault("monthly_tallies_created", []).append(table.name)


def _keep_the_monthly_tallies(metadata: Any, connection: Any, **_kw: Any) -> None:
    """create_all (a reused benchmark dataset, a test schema) that created a monthly
    tally: its triggers and first fill, as migration 0012_tallies makes them — once every
    table exists, since they read "case" and person."""
    for name in connection.info.pop("monthly_tallies_created", []):
        for statement in _DERIVED_DDL[name].get(connection.dialect.name, ()):
            connection.exec_driver_sql(statement)


def listen(metadata: MetaData) -> None:
    """Make create_all build the triggers and first fills with the tally tables
    (models.py calls this once its tables are declared)."""
    event.listen(metadata.tables["case_tally"], "after_create", _keep_the_tally)
    for name in ("ceremony_tally", "outcome_tally"):
        event.listen(metadata.tables[name], "after_create", _monthly_tally_created)
    event.listen(metadata, "after_create", _keep_the_monthly_tallies)


listen(SQLModel.metadata)
