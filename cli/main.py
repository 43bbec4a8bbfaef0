"""The `ketnap` command: every subcommand assembled on one group.

Each module defines its commands and imports the engine only when one runs, so
`ketnap --help` loads click and nothing else. Every command that touches a database
takes --database URL and --now YYYY-MM-DD.
"""

from __future__ import annotations

import click

from cli import (
    cases,
    directory,
    documents,
    exchange,
    ledger,
    ops,
    reminders,
    reports,
    rules,
    serve,
)


@click.group()
def main() -> None:
    """Ketnap — quy trình kết nạp đảng viên (the admission of new party members)."""


# One line per command, grouped by module.
main.add_command(cases.init)
main.add_command(cases.demo)
main.add_command(cases.cases)
main.add_command(cases.advance)
main.add_command(cases.history_command)
main.add_command(cases.verify)
main.add_command(cases.process_command)
main.add_command(rules.rules_command)
main.add_command(directory.org_group)
main.add_command(directory.member_group)
main.add_command(directory.village_group)
main.add_command(ledger.keygen)
main.add_command(ledger.checkpoint)
main.add_command(ledger.checkpoints)
main.add_command(documents.form_command)
main.add_command(exchange.import_command)
main.add_command(exchange.import_layout)
main.add_command(exchange.imports_group)
main.add_command(exchange.export_command)
main.add_command(ops.backup)
main.add_command(ops.restore)
main.add_command(ops.copy_command)
main.add_command(reminders.remind)
main.add_command(reminders.deadlines)
main.add_command(reminders.scheduler_command)
main.add_command(reports.report_command)
main.add_command(reports.narrative_command)
main.add_command(reports.target_group)
main.add_command(serve.serve)

if __name__ == "__main__":
    main()
