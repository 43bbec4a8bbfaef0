"""What a case waits for: the step(s) the process table says come next from the case's
state and dates, and which kind of party must act. Pure: no database, no clock — the
task list (workflow/queries/tasks.py), the claims (workflow/directory/claims.py) and the
case page read the same answer.

The rule, from the annotations of process.EVENTS:

- an `alternative` event (reject, withdraw, fail the class, transfer, extension,
  removal) is never waited for;
- a step that keeps the state (the papers of probation) is waited for until its
  `done_when` date is set — several may be waited for at once;
- of the steps that move the case, the first in the table's order is the normal way
  forward (in `cell_resolved` the committee's vote, not the decision straight away that
  a committee which itself admits may also record); it is waited for once every date of
  its `waits_for` is set (the confirmation vote waits for the three papers).
"""

from __future__ import annotations

from typing import Any

from workflow import access, process

# Who must act on a step, by its process.Event.acted_by: the cell's secretary, the named
# helpers of the case, the officers of the cell's committee (the organisation above the
# cell), or the officers of the competent authority (the nearest ancestor that may admit).
ASSIGNEES = ("cell", "helper", "committee", "authority")
# The group queues: their officers share the task and one of them may claim it.
QUEUES = ("committee", "authority")


def waited_events(case: Any) -> list[process.Event]:
    """The steps an open case waits for now, in the table's order ([] when closed).

    `case` is a Case row or anything with its `state`, `open` and dates."""
    if not getattr(case, "open", True):
        return []
    waited: list[process.Event] = []
    way_forward_seen = False
    for event in process.allowed_events(case.state):
        if event.alternative:
            continue
        if event.target is None:
            if event.done_when is not None and getattr(case, event.done_when) is None:
                waited.append(event)
            continue
        if way_forward_seen:
            continue
        way_forward_seen = True
        if all(getattr(case, name) is not None for name in event.waits_for):
            waited.append(event)
    return waited


def is_waited(case: Any, event_name: str) -> bool:
    return any(e.name == event_name for e in waited_events(case))


def assignee_kind(event: process.Event) -> str:
    """Which of ASSIGNEES must act on `event`."""
    if event.acted_by not in ASSIGNEES:
        raise ValueError(f"no assignee for events acted by {event.acted_by}")
    return event.acted_by


def committee_of(path: str) -> int | None:
    """The id of the organisation right above the cell whose `path` is given."""
    ids = [int(i) for i in path.strip("/").split("/") if i]
    return ids[-2] if len(ids) >= 2 else None


def competent_authority_of(path: str, may_admit: dict[int, bool]) -> int | None:
    """The nearest ancestor of the cell at `path` that may admit (`may_admit`: by id)."""
    ids = [int(i) for i in path.strip("/").split("/") if i]
    for org_id in reversed(ids[:-1]):
        if may_admit.get(org_id):
            return org_id
    return None


def step_for(deadline_id: str, role: str) -> str | None:
    """The step a reminder of `deadline_id` asks of someone in `role`: the first event
    that meets that deadline and that the role records (None: nothing to record, e.g. a
    sponsor told of a certificate's expiry)."""
    for event in process.EVENTS:
        if event.discharges == deadline_id and role in access.RECORDERS[event.acted_by]:
            if role == "sponsor" and event.acted_by != "helper":
                continue
            return event.name
    return None
