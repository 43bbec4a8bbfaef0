"""`ketnap org …`, `ketnap member …`, `ketnap village …`: setting a district up from a
terminal, through the same workflow/directory actions (one validation, one admin-log
entry per change) as the admin pages and the API.

Each option is a field of the action's data; a value is passed as typed and checked by
the action, so a bad one is refused with the action's own message. An edit changes only
the fields it names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from cli.options import WHOLE, active_actor, actor_option, engine_options

if TYPE_CHECKING:
    from workflow.engine import Engine


def _data(**values: Any) -> dict[str, Any]:
    """The options given, as the action's data (an option left out is not sent)."""
    return {name: value for name, value in values.items() if value is not None}


def _run(action: Callable[[], Any]) -> Any:
    """Run a directory action; its refusal becomes a clear message and exit status 1."""
    from workflow.access import Forbidden
    from workflow.engine import NotFound
    from workflow.schema import InvalidData

    try:
        return action()
    except InvalidData as error:
        raise click.ClickException(f"[{error.field}] {error.message_vi}") from error
    except Forbidden as error:
        raise click.ClickException(
            "vai trò của người dùng không được làm việc này (role may not do this)"
        ) from error
    except NotFound as error:
        raise click.ClickException(f"không tìm thấy số {error} (not found)") from error


# ── organisations ────────────────────────────────────────────────────────
@click.group(name="org")
def org_group() -> None:
    """The organisation tree: add an organisation, rename it, say whether it may admit."""


@org_group.command(name="add")
@engine_options
@click.option("--name", required=True, help="e.g. 'Đảng ủy xã Đông Lỗ', 'Chi bộ thôn Trung'.")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["committee", "grassroots_committee", "cell", "grassroots_cell"]),
)
@click.option("--parent", "parent_id", type=WHOLE, default=None, help="The organisation above.")
@click.option("--may-admit/--may-not-admit", "may_admit", default=None)
@actor_option
def org_add(engine: Engine, username: str, **values: Any) -> None:
    """Add an organisation below its parent."""
    from workflow.directory import organisations

    actor = active_actor(engine, username)
    org = _run(lambda: organisations.add_organisation(engine, _data(**values), actor=actor))
    click.echo(f"#{org.id} {org.name} ({org.kind}, {org.path})")


@org_group.command(name="edit")
@engine_options
@click.argument("org_id", type=WHOLE)
@click.option("--name", default=None)
@click.option("--may-admit/--may-not-admit", "may_admit", default=None)
@actor_option
def org_edit(engine: Engine, org_id: int, username: str, **values: Any) -> None:
    """Rename an organisation, or change whether it may decide admissions."""
    from workflow.directory import organisations

    actor = active_actor(engine, username)
    org = _run(
        lambda: organisations.change_organisation(engine, org_id, _data(**values), actor=actor)
    )
    click.echo(f"#{org.id} {org.name} (may_admit={org.may_admit})")


@org_group.command(name="list")
@engine_options
def org_list(engine: Engine) -> None:
    """Every organisation with its id, kind and path."""
    from workflow.directory import organisations

    with engine.session() as session:
        for org in organisations.organisations(session):
            admits = " ⚑ may admit" if org.may_admit else ""
            click.echo(f"{org.id:>6}  {org.path:<20} {org.kind:<21} {org.name}{admits}")


# ── members ──────────────────────────────────────────────────────────────
_MEMBER_OPTIONS: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
    click.option("--full-name", "full_name", default=None),
    click.option("--cell", "cell_id", type=WHOLE, default=None, help="The member's cell."),
    click.option(
        "--status", type=click.Choice(["official", "probationary", "removed"]), default=None
    ),
    click.option("--joined-on", "joined_on", default=None, help="YYYY-MM-DD"),
    click.option("--official-since", "official_since", default=None, help="YYYY-MM-DD"),
]


def _member_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_MEMBER_OPTIONS):
        command = option(command)
    return command


@click.group(name="member")
def member_group() -> None:
    """Party members: add one, correct or change one (status, dates, cell)."""


@member_group.command(name="add")
@engine_options
@_member_options
@actor_option
def member_add(engine: Engine, username: str, **values: Any) -> None:
    """Add a party member to a cell (an official member needs --official-since)."""
    from workflow.directory import members

    actor = active_actor(engine, username)
    member = _run(lambda: members.add_member(engine, _data(**values), actor=actor))
    click.echo(f"#{member.id} {member.full_name} ({member.status}, chi bộ {member.cell_id})")


@member_group.command(name="edit")
@engine_options
@click.argument("member_id", type=WHOLE)
@_member_options
@actor_option
def member_edit(engine: Engine, member_id: int, username: str, **values: Any) -> None:
    """Change the fields named: a status, a date, the cell."""
    from workflow.directory import members

    actor = active_actor(engine, username)
    member = _run(lambda: members.change_member(engine, member_id, _data(**values), actor=actor))
    click.echo(f"#{member.id} {member.full_name} ({member.status}, chi bộ {member.cell_id})")


# ── villages ─────────────────────────────────────────────────────────────
@click.group(name="village")
def village_group() -> None:
    """Villages (thôn, tổ dân phố), their party-member counts and their heads and deputies."""


def _village_action(engine: Engine, username: str, act: Callable[..., Any]) -> Any:
    """Run a village action in one session, with the engine's clock for its log entry."""
    actor = active_actor(engine, username)

    def run() -> Any:
        with engine.session() as session:
            return act(session, actor, engine.clock.now())

    return _run(run)


@village_group.command(name="add")
@engine_options
@click.option("--organisation", "organisation_id", type=WHOLE, required=True)
@click.option("--name", required=True)
@click.option("--established-on", "established_on", default=None, help="YYYY-MM-DD")
@actor_option
def village_add(engine: Engine, username: str, **values: Any) -> None:
    """Add a village to the organisation whose party work covers it."""
    from workflow.directory import villages

    village = _village_action(
        engine,
        username,
        lambda session, actor, now: villages.add_village(session, actor, _data(**values), now=now),
    )
    click.echo(f"#{village.id} {village.name}")


@village_group.command(name="census")
@engine_options
@click.argument("village_id", type=WHOLE)
@click.option("--counted-on", "counted_on", required=True, help="YYYY-MM-DD")
@click.option("--party-members", "party_members", required=True)
@actor_option
def village_census(engine: Engine, village_id: int, username: str, **values: Any) -> None:
    """Record how many party members a village had on a day."""
    from workflow.directory import villages

    _village_action(
        engine,
        username,
        lambda session, actor, now: villages.record_census(
            session, actor, village_id, _data(**values), now=now
        ),
    )
    click.echo(f"thôn #{village_id}: {values['party_members']} đảng viên ({values['counted_on']})")


@village_group.command(name="official")
@engine_options
@click.argument("village_id", type=WHOLE)
@click.option("--role", type=click.Choice(["head", "deputy"]), required=True)
@click.option("--full-name", "full_name", required=True)
@click.option("--starts-on", "starts_on", required=True, help="First day of the term.")
@click.option("--ends-on", "ends_on", default=None, help="Last day in office, if over.")
@click.option("--party-member-since", "party_member_since", default=None, help="YYYY-MM-DD")
@actor_option
def village_official(engine: Engine, village_id: int, username: str, **values: Any) -> None:
    """Record a village head or deputy and their term."""
    from workflow.directory import villages

    official = _village_action(
        engine,
        username,
        lambda session, actor, now: villages.add_official(
            session, actor, village_id, _data(**values), now=now
        ),
    )
    click.echo(f"#{official.id} {official.full_name} ({official.role})")
