"""Operations on a whole database: backup, restore, copy between databases, demo data."""
