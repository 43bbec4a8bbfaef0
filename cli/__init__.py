"""The `ketnap` command: click commands defined per concern, assembled in cli.main."""
