"""Ketnap's engine: the admission process as data, and the one way a case changes."""
