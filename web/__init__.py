"""Ketnap's web side: HTTP in, HTML and JSON out. No business rule lives here."""
