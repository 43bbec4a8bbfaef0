"""`ketnap serve`: the one command that imports `web`."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--database", "database_url", default=None, help="SQLAlchemy URL.")
@click.option("--now", default=None, help="Pretend today is YYYY-MM-DD (time travel).")
@click.option(
    "--dev",
    is_flag=True,
    help="Development: werkzeug's server, restarted when a source file changes.",
)
def serve(
    host: str | None, port: int | None, database_url: str | None, now: str | None, dev: bool
) -> None:
    """Serve the web UI and the JSON API (http://127.0.0.1:8000 by default).

    Without --dev it refuses to start unless the secret key is strong (32 characters or
    more, not an example): `ketnap init` writes a random one to instance/secret_key."""
    from web.server import serve as run

    run(host, port, database_url, now, dev=dev)
