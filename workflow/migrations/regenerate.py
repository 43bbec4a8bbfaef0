"""Regenerate the initial migration from the models (only before the first release:
after it, add a new revision instead). `python -m workflow.migrations.regenerate`."""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from workflow import db

VERSIONS = db.MIGRATIONS / "versions"


def main() -> None:
    for old in VERSIONS.glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.connect(f"sqlite:///{Path(tmp) / 'empty.db'}")
        config = db.alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")


if __name__ == "__main__":
    main()
