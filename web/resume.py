"""A form kept across an expired session (web/auth.py), shown again for one tap.

An event form (a nomination, a step of a case) comes back as itself, filled in with
what was typed and posting where it posted; any other form as its typed values, to
send again as they are. Nothing is sent without the user's tap: the session may now
be someone else's, and the case may have moved on meanwhile.
"""

from __future__ import annotations

import re
from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from web import forms
from web.context import actor, engine
from workflow import hygiene, process
from workflow.queries import case_list

_EVENT_PATH = re.compile(r"^/cases/([0-9]{1,10})/events/([a-z_]{1,40})$")


def kept_form(path: str, fields: list[Any]) -> ResponseReturnValue:
    posted: MultiDict[str, str] = MultiDict(
        [
            (str(pair[0]), str(pair[1]))
            for pair in fields
            if isinstance(pair, list | tuple) and len(pair) == 2
        ]
    )
    form = _event_form(path, posted)
    return render_template(
        "resume.html",
        form=form,
        action=path if path.startswith("/") and not path.startswith("//") else "/",
        fields=list(posted.items(multi=True)),
    )


def _event_form(path: str, posted: MultiDict[str, str]) -> forms.EventForm | None:
    who = actor()
    if path == "/cases/new":
        spec = process.NOMINATE
        with engine().session() as session:
            choices = forms.Choices(cells=case_list.cells_in_scope(session, who))
        return forms.build_form(spec, choices, posted)
    found = _EVENT_PATH.match(path)
    step = process.event(found.group(2)) if found else None
    if step is None or step is process.NOMINATE:
        return None
    choices = forms.Choices(cell_search=True)  # a receiving cell: found by name
    choices.member_names.update(forms.member_names(who, forms.member_ids(step.fields, posted)))
    version = hygiene.whole_number(posted.get("version", ""))
    return forms.build_form(step, choices, posted, version=version)
