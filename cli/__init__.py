"""The `ketnap` command: click groups assembled in cli.main; only `serve` imports web."""
