"""The figures the districts publish (PROCESS.md, "Reports the districts publish"), for an
organisation's subtree and a period [from, to]:

1. admissions — ceremonies held, against every applicable target;
2. breakdown — the new members: women, Youth Union, ethnic minorities, religion,
   occupation group, education, age band at admission;
3. confirmations as official members, and removals;
4. classes — awareness and new-member theory classes, and their attendees;
5. pipeline — open cases per state, overdue cases per deadline;
6. villages — villages without a party member, heads and deputies who are members,
   at the period's two ends.

One module per report (admissions.py … villages.py). Every figure is a GROUP BY in the
database (sql.py): rows come back per (cell, month) or per category, never per case, so
a report over a million cases moves a few thousand rows.

`catalogue.compute(session, name, org_id, date_from, date_to)` returns a JSON-ready dict
whose "tables" (tables.py: title, typed columns, rows) feed the pages, CSV and XLSX
alike (files.py) and the narrative summary (narrative.py). scope.py reads what a request
asks for and checks who may read it; period.py the period; figures.py prints numbers as
the reports do; categories.py holds the breakdown's groups.
"""
