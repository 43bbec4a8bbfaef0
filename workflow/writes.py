"""How an advance's rows are written, per dialect, once its effect has run: the case
row, the changed deadlines, the history row with its ledger entry, and the stay it ends.

As few statements as the dialect allows (bench/FINDINGS.md, "Statements per advance"):
on PostgreSQL the ledger's lock, then ONE statement of data-modifying CTEs
(`_write_statement`, one per shape, built once); on SQLite, which has no such CTEs, one
statement per table (`one_by_one`), the deadlines' changes in one upsert."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, bindparam, func, update
from sqlalchemy.dialects import postgresql, sqlite

from workflow import stays
from workflow.acts import _table
from workflow.history import ledger
from workflow.models import Case, CaseDeadline, CaseStay, HistoryEvent

_CASES = _table(Case)
_CASE_COLUMNS = tuple(column.name for column in _CASES.columns)
_DEADLINES = _table(CaseDeadline)
_HISTORY = _table(HistoryEvent)
CASE_UPDATE = update(_CASES).where(_CASES.c.id == bindparam("case_id_"))
_DEADLINE_DELETE = sa.delete(_DEADLINES).where(_DEADLINES.c.id == bindparam("row_id"))
_HISTORY_INSERT = sa.insert(_HISTORY)
_STAYS = _table(CaseStay)
# Every deadline whose due date changed and every deadline that comes, in ONE statement
# (SQLite): an INSERT whose `id` is the row's for a changed due, the row of a deadline
# that goes for a new one (paired), NULL for the others. A conflict on the id updates
# that row; a row taken over by a new deadline is renumbered to the id the INSERT would
# have given (max + 1: no AUTOINCREMENT), so the table ends exactly as after an UPDATE,
# an INSERT and a DELETE in the ORM's order, with the same ids.
_upsert = sqlite.insert(_DEADLINES)
_DEADLINE_SET = _upsert.on_conflict_do_update(
    index_elements=[_DEADLINES.c.id],
    set_={
        "id": sa.case(
            (_DEADLINES.c.deadline == _upsert.excluded.deadline, _DEADLINES.c.id),
            else_=sa.select(func.max(_DEADLINES.c.id) + 1).scalar_subquery(),
        ),
        "deadline": _upsert.excluded.deadline,
        "due": _upsert.excluded.due,
    },
)


@dataclass(frozen=True)
class DeadlineChanges:
    """What changed between the stored deadlines and the live ones, in the order the
    ORM's unit of work wrote them (updates, inserts, deletes: the same row ids)."""

    case_id: int
    changed: list[tuple[int, str, date]]  # (row id, deadline id, new due)
    added: list[tuple[str, date]]  # (deadline id, due), in the process table's order
    gone: list[int]  # row ids

    def shape(self) -> tuple[int, int, int]:
        return len(self.changed), len(self.added), len(self.gone)


def _write_statement(shape: tuple[bool, int, int, int]) -> sa.TextClause:
    """PostgreSQL: everything an advance writes after its effects, as ONE statement of
    data-modifying CTEs — the case row, the history row, the stay it ends, the deadlines'
    changes and the ledger entry chained onto the head (ledger.CHAINED_INSERT) —
    answering the history row's id. One per shape (stay or not, how many deadlines
    change, come and go), each built once."""
    stay, changed, added, gone = shape
    case_columns = [c for c in _CASE_COLUMNS if c != "id"]
    history_columns = [c.name for c in _HISTORY.columns if c.name != "id"]
    quote = _QUOTE
    binds: list[sa.BindParameter[Any]] = [
        *(bindparam(f"c_{c}", type_=_CASES.c[c].type) for c in case_columns),
        bindparam("c_id", type_=sa.Integer()),
        *(bindparam(f"h_{c}", type_=_HISTORY.c[c].type) for c in history_columns),
    ]
    parts = [
        "h AS (INSERT INTO historyevent ({}) VALUES ({}) RETURNING id)".format(
            ", ".join(quote(c) for c in history_columns),
            ", ".join(f":h_{c}" for c in history_columns),
        ),
        'c AS (UPDATE "case" SET {} WHERE id = :c_id)'.format(
            ", ".join(f"{quote(c)} = :c_{c}" for c in case_columns)
        ),
    ]
    if stay:
        stay_columns = [c.name for c in _STAYS.columns if c.name != "id"]
        binds.extend(bindparam(f"s_{c}", type_=_STAYS.c[c].type) for c in stay_columns)
        parts.append(
            "s AS (INSERT INTO case_stay ({}) VALUES ({}))".format(
                ", ".join(quote(c) for c in stay_columns),
                ", ".join(f":s_{c}" for c in stay_columns),
            )
        )
    if changed:
        rows = ", ".join(
            f"(CAST(:du_id{i} AS INTEGER), CAST(:du_due{i} AS DATE))" for i in range(changed)
        )
        parts.append(
            f"du AS (UPDATE casedeadline SET due = v.due FROM (VALUES {rows}) AS v (id, due) "
            "WHERE casedeadline.id = v.id)"
        )
    if added:
        rows = ", ".join(f"(:c_id, :di_deadline{i}, :di_due{i})" for i in range(added))
        binds.extend(bindparam(f"di_due{i}", type_=sa.Date()) for i in range(added))
        parts.append(f"di AS (INSERT INTO casedeadline (case_id, deadline, due) VALUES {rows})")
    if gone:
        ids = ", ".join(f":dd_id{i}" for i in range(gone))
        parts.append(f"dd AS (DELETE FROM casedeadline WHERE id IN ({ids}))")
    parts.append(f"l AS ({ledger.CHAINED_INSERT})")
    sql = "WITH {} SELECT (SELECT id FROM h) AS id".format(",\n".join(parts))
    return sa.text(sql).bindparams(*binds)


_QUOTE: Callable[[str], str] = postgresql.dialect().identifier_preparer.quote  # type: ignore[no-untyped-call]
_WRITES: dict[tuple[bool, int, int, int], sa.TextClause] = {}


def write_history(
    connection: Connection, row: dict[str, Any], head: str | ledger.Unread | None
) -> None:
    # the ledger last: on PostgreSQL its lock is then held only until the commit
    row["id"] = connection.execute(_HISTORY_INSERT, row).inserted_primary_key[0]  # type: ignore[index]
    ledger.append_to(connection, row["case_id"], row["seq"], row["hash"], row["recorded_at"], head)


def one_by_one(
    connection: Connection,
    values: dict[str, Any],
    row: dict[str, Any],
    stay: dict[str, Any] | None,
    deadlines: DeadlineChanges,
    head: str | ledger.Unread | None,
) -> None:
    """SQLite (one statement per table written): the deadlines' changes, the case row,
    the history row, its ledger entry (the head came with the claim), the stay."""
    _deadlines(connection, deadlines)
    changes = {**values, "case_id_": values["id"]}
    del changes["id"]
    connection.execute(CASE_UPDATE, changes)
    write_history(connection, row, head)
    if stay is not None:
        connection.execute(stays.INSERT, stay)


def _deadlines(connection: Connection, deadlines: DeadlineChanges) -> None:
    """The changed dues and every new deadline in one statement (_DEADLINE_SET), each
    new one taking over the row of one that goes while there are such; then the rows
    of the deadlines that go and were not taken over."""
    case_id, gone = deadlines.case_id, deadlines.gone
    rows = [
        {"id": row_id, "case_id": case_id, "deadline": deadline_id, "due": due}
        for row_id, deadline_id, due in deadlines.changed
    ] + [
        {"id": gone[i] if i < len(gone) else None, "case_id": case_id, "deadline": d, "due": due}
        for i, (d, due) in enumerate(deadlines.added)
    ]
    if rows:
        connection.execute(_DEADLINE_SET, rows)
    if len(gone) > len(deadlines.added):
        rows = [{"row_id": row_id} for row_id in gone[len(deadlines.added) :]]
        connection.execute(_DEADLINE_DELETE, rows)


def at_once(
    connection: Connection,
    values: dict[str, Any],
    row: dict[str, Any],
    stay: dict[str, Any] | None,
    deadlines: DeadlineChanges,
) -> None:
    """PostgreSQL: the ledger's lock, then one statement (_write_statement)."""
    shape = (stay is not None, *deadlines.shape())
    if shape not in _WRITES:
        _WRITES[shape] = _write_statement(shape)
    bound: dict[str, Any] = {f"c_{name}": value for name, value in values.items()}
    bound.update({f"h_{name}": value for name, value in row.items()})
    bound.update({f"s_{name}": value for name, value in (stay or {}).items()})
    for i, (row_id, _, due) in enumerate(deadlines.changed):
        bound[f"du_id{i}"], bound[f"du_due{i}"] = row_id, due
    for i, (deadline_id, due) in enumerate(deadlines.added):
        bound[f"di_deadline{i}"], bound[f"di_due{i}"] = deadline_id, due
    for i, row_id in enumerate(deadlines.gone):
        bound[f"dd_id{i}"] = row_id
    bound.update(ledger.chained_values(row["case_id"], row["seq"], row["hash"], row["recorded_at"]))
    ledger.lock(connection)  # last: held for this statement and the commit only
    row["id"] = connection.execute(_WRITES[shape], bound).scalar_one()
