"""A candidate with django-fsm-2's FSMField, 15 transitions in sequence, optimistic
concurrency (ConcurrentTransitionMixin); django-fsm-log records each transition as a
StateLog row (its post_transition receiver)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMIntegerField, transition

STEPS = 15


def _step(n: int) -> Any:
    def step(self: Any) -> None:
        """One step of the procedure."""

    step.__name__ = f"step{n}"
    return transition(field="state", source=n, target=n + 1)(step)


class Candidate(ConcurrentTransitionMixin, models.Model):  # type: ignore[misc]
    state = FSMIntegerField(default=0)

    class Meta:
        app_label = "peer_django"

    # the transitions must be in the class body: the field collects them when the
    # class is prepared
    for _n in range(STEPS):
        locals()[f"step{_n}"] = _step(_n)
    del _n
