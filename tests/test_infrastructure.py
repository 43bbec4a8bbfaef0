"""The real components the suite relies on: PostgreSQL, an SMTP peer, Chromium."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.support.postgres import (
    create_database,
    drop_database,
    postgres_server_url,
    temporary_database,
)
from tests.support.smtp import SmtpPeer

VIETNAMESE = "Kính gửi đồng chí Nguyễn Thị Hương: hồ sơ kết nạp Đảng đã được chi bộ thông qua."


@pytest.mark.postgres
def test_postgres_create_query_drop() -> None:
    base_url = postgres_server_url()
    assert base_url.startswith("postgresql+psycopg://")

    url = create_database(base_url)
    name = sa.make_url(url).database
    assert name is not None and name.startswith("ketnap_test_")
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
            assert conn.execute(sa.text("select current_database()")).scalar_one() == name
            assert conn.execute(sa.text("show server_encoding")).scalar_one() == "UTF8"
        # A connection still open must not stop the drop.
        lingering = engine.connect()
        lingering.execute(sa.text("select 1"))
        drop_database(url)
        lingering.invalidate()
        lingering.close()
    finally:
        engine.dispose()

    admin = sa.create_engine(base_url, poolclass=NullPool)
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("select count(*) from pg_database where datname = :n"), {"n": name}
            ).scalar_one()
        assert exists == 0
    finally:
        admin.dispose()
    drop_database(url)  # dropping again is harmless


@pytest.mark.postgres
def test_postgres_databases_are_isolated() -> None:
    with temporary_database() as first, temporary_database() as second:
        assert first != second
        one = sa.create_engine(first, poolclass=NullPool)
        two = sa.create_engine(second, poolclass=NullPool)
        try:
            with one.begin() as conn:
                conn.execute(sa.text("create table chi_bo (ten text)"))
                conn.execute(sa.text("insert into chi_bo values (:t)"), {"t": "Chi bộ Đảng"})
            with one.connect() as conn:
                assert conn.execute(sa.text("select ten from chi_bo")).scalar_one() == "Chi bộ Đảng"
            with two.connect() as conn:
                assert conn.execute(sa.text("select to_regclass('chi_bo')")).scalar_one() is None
        finally:
            one.dispose()
            two.dispose()


def _send(port: int, subject: str, to: list[str]) -> None:
    msg = EmailMessage()
    msg["From"] = "Ketnap <ketnap@localhost>"
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg.set_content(VIETNAMESE)  # utf-8
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(msg)


def test_smtp_peer_receives_vietnamese_mail_and_survives_restart() -> None:
    with SmtpPeer() as smtp:
        port = smtp.port
        _send(port, "Thông báo kết nạp", ["bithu@localhost", "dangvien@localhost"])
        [received] = smtp.wait_for(1, timeout=10)
        assert received.mail_from == "ketnap@localhost"
        assert received.rcpt_tos == ("bithu@localhost", "dangvien@localhost")
        assert received.subject == "Thông báo kết nạp"
        assert received.body.strip() == VIETNAMESE
        assert received.message.get_content_charset() == "utf-8"

        smtp.stop()  # an outage: the port refuses connections
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        with pytest.raises(OSError):
            _send(port, "Lost", ["bithu@localhost"])

        smtp.start()  # back, on the same port
        assert smtp.port == port
        _send(port, "Nhắc việc", ["bithu@localhost"])
        messages = smtp.wait_for(2, timeout=10)
        assert [m.subject for m in messages] == ["Thông báo kết nạp", "Nhắc việc"]

        with pytest.raises(TimeoutError):
            smtp.wait_for(3, timeout=0.2)
    assert not smtp.running


@pytest.mark.browser
def test_chromium_opens_a_page() -> None:
    from playwright.sync_api import sync_playwright

    from tests.support.browser import launch_chromium

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            page.goto(
                "data:text/html;charset=utf-8,<title>Kết nạp Đảng</title><h1 id=h>Xin chào</h1>"
            )
            assert page.title() == "Kết nạp Đảng"
            assert page.text_content("#h") == "Xin chào"
        finally:
            browser.close()
