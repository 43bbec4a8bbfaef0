"""Data in and out: the import of historical cases, members and classes from CSV/XLSX,
and exports, scoped by who asks.

    layouts.py         every import layout: columns, labels, required ones, the steps a
                       case row's columns feed (`ketnap import-layout` prints them)
    readers.py         CSV/XLSX reading, encodings, matching the header to a layout
    rows.py            one data row: cells cleaned and parsed, problems collected
    lookups.py         organisations and members a file names, in the importer's scope
    plan_cases.py      a case row → the nomination and steps to replay
    replay.py          a case plan → engine calls; a refused step → a row error
    import_cases.py    the case import: duplicates, one savepoint per row
    import_members.py  the member import: checks, duplicates, bulk writes
    import_classes.py  the class import: completes classes the engine created
    import_villages.py members by village: villages, members, heads and deputies' terms
    choices.py         the codes and labels a choice column accepts ("Nữ" for female)
    job.py             chunks, batches, commits or a dry run's rollback, rejections
    run.py             `import_file` / `check_file`: who may import, which kind
    limits.py          the caps checked before parsing: size, an xlsx's unpacked size
                       and rows (zip directory, raw XML), errors kept
    jobs.py            uploads queued in the database, claimed and run by the
                       scheduler (`ketnap imports run`), files 0600, a week's keep
    report.py          `ImportReport`, `RowError`, `ImportFileError`
    export.py          cases and members out as CSV/XLSX in the import's layout
"""
