"""Data in and out: the import of historical cases and members, and exports, scoped by who asks."""
