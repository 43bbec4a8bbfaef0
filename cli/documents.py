"""`ketnap form`: a case's official form (3-KNĐ, 6-KNĐ, 13-KNĐ, 20-KNĐ) as .docx."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.options import WHOLE, active_actor, actor_option, engine_options

if TYPE_CHECKING:
    from workflow.engine import Engine


@click.command(name="form")
@engine_options
@click.argument("case_id", type=WHOLE)
@click.argument("form_name", metavar="FORM")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--sponsor", type=WHOLE, default=None, help="3-KNĐ: only this sponsor's page.")
@actor_option
def form_command(
    engine: Engine,
    case_id: int,
    form_name: str,
    output: Path | None,
    sponsor: int | None,
    username: str,
) -> None:
    """Write the official form FORM (3-KNĐ, 6-KNĐ, 13-KNĐ, 20-KNĐ) of CASE_ID as .docx."""
    from workflow.documents import forms
    from workflow.engine import NotFound
    from workflow.models import Person

    actor = active_actor(engine, username)
    with engine.session() as session:
        try:
            case = engine.case_for(session, case_id, actor)
        except NotFound as error:
            raise click.ClickException(f"không có hồ sơ {case_id} (no such case)") from error
        try:
            content = forms.render(session, case, form_name, engine.params, sponsor)
        except forms.FormNotApplicable as error:
            raise click.ClickException(f"{error.message_vi}\n{error.message_en}") from error
        person = session.get(Person, case.person_id)
        assert person is not None
        target = output or Path(forms.filename(case, person, form_name, sponsor))
    target.write_bytes(content)
    click.echo(f"{target}")
