"""Which events an actor may record: the process table says what a case's state allows,
the access rules say which roles record each kind of event. Pages offer these forms and
the API lists them as a case's `allowed_events`; the engine checks the same two facts
when the event is recorded.
"""

from __future__ import annotations

from workflow import process
from workflow.access import RECORDERS, Actor
from workflow.models import Case


def may_record(who: Actor, event: process.Event) -> bool:
    """True when the actor's role records this kind of event (before the case's state)."""
    return who.role in RECORDERS[event.acted_by]


def recordable_events(case: Case, who: Actor) -> list[process.Event]:
    """The events the case's state allows now that the actor's role records, in the
    table's order."""
    return [e for e in process.allowed_events(case.state) if may_record(who, e)]
