"""The figures the districts publish (PROCESS.md, "Reports the districts publish"), for an
organisation's subtree and a period [from, to]:

1. admissions — ceremonies held, against every applicable target;
2. breakdown — the new members: women, Youth Union, ethnic minorities, religion,
   occupation group, education, age band at admission;
3. confirmations as official members, and removals;
4. classes — awareness and new-member theory classes, and their attendees;
5. pipeline — open cases per state, overdue cases per deadline;
6. villages — villages without a party member, heads and deputies who are members,
   at the period's two ends;
7. step_durations — how long each step holds a case (the stays that ended in the
   period: median and P90 in days and working days), the cases waiting in each step,
   and the bottlenecks (durations.py);
8. forecast — for each open target, the admissions expected by its end from the
   pipeline and the subtree's own history, with an 80 % interval (forecast.py, the
   model projection.py; docs/forecast.md).

One module per report. Every figure is a GROUP BY in the database (sql.py): rows come
back per (cell, month) or per category, never per case; admissions, breakdown and
confirmations read whole months from tallies the database keeps (models: ceremony_tally,
outcome_tally); the last two read the stays (models.CaseStay), a sample of them where a
period holds more than a page may read (said in the report's notes).

`catalogue.compute(session, name, org_id, date_from, date_to)` returns a JSON-ready dict
whose "tables" (tables.py: title, typed columns, rows) feed the pages, CSV and XLSX
alike (files.py) and the narrative summary (narrative.py). scope.py reads what a request
asks for and checks who may read it; period.py the period; figures.py prints numbers as
the reports do; categories.py holds the breakdown's groups.
"""
