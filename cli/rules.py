"""`ketnap rules`: the sets of rule parameters in configuration, each with its date,
its text and every parameter with its label, unit, value and article."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

LANGUAGES = click.Choice(["vi", "en"])


@click.command("rules")
@click.option(
    "--config", "config_path", default=None, help="config.toml (default: $KETNAP_CONFIG)."
)
@click.option("--now", default=None, help="Mark the set in force on YYYY-MM-DD (default: today).")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@click.option("--lang", type=LANGUAGES, default="vi", show_default=True, help="Language of labels.")
def rules_command(config_path: str | None, now: str | None, as_json: bool, lang: str) -> None:
    """Các bộ tham số quy định theo ngày hiệu lực (the rule parameter sets by date)."""
    from workflow import config, rules
    from workflow.runtime import clock_for

    try:
        book = config.load(config_path).rules
    except config.ConfigError as error:
        raise click.ClickException(str(error)) from error
    try:
        today = clock_for(now).today()
    except ValueError as error:
        raise click.BadParameter(f"{now}: YYYY-MM-DD", param_hint="--now") from error
    described = rules.describe(book, today)
    if as_json:
        click.echo(json.dumps({"sets": described}, ensure_ascii=False, indent=2))
        return
    for index, item in enumerate(described):
        if index:
            click.echo()
        _echo_set(item, lang)


def _echo_set(item: dict[str, Any], lang: str) -> None:
    start = date.fromisoformat(str(item["effective_from"]))
    until = item["until"]
    vi = lang == "vi"
    span = f"{'từ' if vi else 'from'} {start:%d/%m/%Y}" + (
        f" {'đến' if vi else 'to'} {date.fromisoformat(str(until)):%d/%m/%Y}" if until else ""
    )
    marks = []
    if item["in_force"]:
        marks.append("đang có hiệu lực" if vi else "in force")
    if item["earliest"]:
        marks.append(
            "áp dụng cả cho các việc trước ngày này" if vi else "also applies to earlier acts"
        )
    text, basis = item["text"], item["basis"]
    click.echo(f"{text[lang]} — {span}" + (f" ({'; '.join(marks)})" if marks else ""))
    click.echo(f"  {basis[lang]}")
    for parameter in item["parameters"]:
        label, unit = parameter["label"][lang], parameter["unit_label"][lang]
        click.echo(f"  - {label}: {parameter['shown']} {unit} [{parameter['source']}]")
