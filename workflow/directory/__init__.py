"""Reference data: organisations, party members, users, villages, class records and
admission targets — not cases (those change only through the engine).

Every write here is an action: it takes the acting user, checks the actor may do it,
validates its input once (a bad value raises InvalidData naming the field, in
Vietnamese and English), owns its transaction, and appends who changed what, old →
new, to the admin log (admin_log.py) in that same transaction. Actions written for
this layout (organisations, members, users) take the Engine — its session and its
clock — and the actor keyword-only; the older ones (classes, targets, villages) keep
taking the caller's session.
"""
