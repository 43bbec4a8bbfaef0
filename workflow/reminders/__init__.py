"""Reminders: which deadlines need one today, whom to tell, recording each exactly once,
and giving it to people — in their in-app inbox and by e-mail.

The scheduler's flow: tick → one sweep → record each reminder once → deliver.

    stages.py          where a deadline stands for reminding (Python and its SQL twin)
    due.py             the sweep's one query: the live deadlines needing a reminder today
    audience.py        whom each reminder tells
    sweep.py           one sweep: record each reminder once, fan out, close, deliver
    outbox.py          what a recorded reminder becomes: inbox items and e-mail deliveries
    delivery.py        sending the outbox with claims, retries and back-off
    mailer.py          one SMTP session and what the server's answers mean
    messages.py        what a reminder says, in Vietnamese or English; the e-mails
    templates/         the e-mail texts (Jinja, plain text)
    inbox.py           a user's inbox, marking an item done, a case's open reminders
    live_deadlines.py  the live deadlines and where each stands (`ketnap deadlines`)
    scheduler.py       running the sweep on a schedule (APScheduler)
    sql.py             the SQL these modules share (dialect INSERT, id chunks)
"""
