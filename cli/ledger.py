"""`ketnap keygen`, `checkpoint` and `checkpoints`: the key that signs the ledger's head
(kept out of the database), signing the head, and exporting the signed heads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.options import engine_options

if TYPE_CHECKING:
    from workflow.engine import Engine


@click.command()
@click.argument("private_key_file", type=click.Path(dir_okay=False, path_type=Path))
def keygen(private_key_file: Path) -> None:
    """Write a new Ed25519 key pair: PRIVATE_KEY_FILE (0600) and PRIVATE_KEY_FILE.pub."""
    from workflow.history import signing

    if private_key_file.exists():
        raise click.ClickException(f"{private_key_file} exists: a signing key is never overwritten")
    public = signing.keygen(private_key_file)
    click.echo(f"private key: {private_key_file} (keep it off the database server's backups)")
    click.echo(f"public key:  {public} (give it to the auditors)")
    click.echo(f'set [history] signing_key_file = "{private_key_file.resolve()}"')


@click.command()
@engine_options
@click.option("--key", "key_file", default=None, help="Private key (default: [history] config).")
def checkpoint(engine: Engine, key_file: str | None) -> None:
    """Sign the ledger's head (seq, hash, time) and store the signed checkpoint."""
    from workflow import config
    from workflow.history import signing

    try:
        key = (
            signing.load_private(key_file)
            if key_file
            else signing.configured_private(config.load().history)
        )
    except (signing.SigningKeyError, config.ConfigError) as error:
        raise click.ClickException(str(error)) from error
    if key is None:
        raise click.ClickException(
            "no signing key: set [history] signing_key_file "
            "(KETNAP_HISTORY_SIGNING_KEY_FILE) or give --key; `ketnap keygen` makes one"
        )
    with engine.session() as session:
        signed = signing.sign(session, key, engine.clock.now())
        session.commit()
    if signed is None:
        click.echo("the ledger is empty: nothing to sign")
        return
    click.echo(
        f"signed ledger head {signed.ledger_seq} {signed.ledger_hash[:16]} "
        f"at {signed.signed_at:%Y-%m-%d %H:%M:%S} UTC (key {signed.key_id[:16]})"
    )


@click.command()
@engine_options
@click.option(
    "--export",
    "export_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every signed checkpoint, with the public key, to this JSON file.",
)
def checkpoints(engine: Engine, export_file: Path | None) -> None:
    """List the signed checkpoints, or export them for auditors to keep elsewhere."""
    from workflow import config
    from workflow.history import signing

    try:
        public = signing.configured_public(config.load().history)
    except (signing.SigningKeyError, config.ConfigError) as error:
        raise click.ClickException(str(error)) from error
    with engine.session() as session:
        listed = signing.stored(session)
    if export_file is not None:
        document = signing.export(listed, public)
        export_file.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        click.echo(f"{len(listed)} checkpoints written to {export_file}")
        return
    for item in listed:
        click.echo(
            f"{item.signed_at:%Y-%m-%d %H:%M:%S}  entry {item.ledger_seq:>8}  "
            f"{item.ledger_hash[:16]}  key {item.key_id[:16]}"
        )
    if not listed:
        click.echo("no signed checkpoint yet (ketnap checkpoint)")
