"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it receives.

    with SmtpPeer() as smtp:
        ...  # point the code under test at 127.0.0.1:smtp.port
        [msg] = smtp.wait_for(1)
        assert "Kính gửi" in msg.body

``stop()`` then ``start()`` brings it back on the same port, to simulate an outage.
"""

from __future__ import annotations

import contextlib
import email.policy
import errno
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the SMTP peer received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def body(self) -> str:
        """The decoded text of the plain-text part (else the HTML part, else the whole)."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        if part is None:
            part = self.message
        content = part.get_content()
        return content if isinstance(content, str) else content.decode("utf-8", "replace")


class _Handler:
    def __init__(self, peer: SmtpPeer) -> None:
        self._peer = peer

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        message = BytesParser(policy=email.policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        self._peer._record(
            ReceivedMessage(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=message,
                raw=raw,
            )
        )
        return "250 Message accepted for delivery"


class SmtpPeer:
    """An aiosmtpd server on 127.0.0.1 that collects the messages it receives.

    The port is chosen free on the first ``start()`` (unless given) and kept across
    ``stop()``/``start()``. ``messages`` survive a restart; ``clear()`` empties them.
    """

    def __init__(self, port: int | None = None, *, ready_timeout: float = 5.0) -> None:
        self._port = port
        self._ready_timeout = ready_timeout
        self._controller: Controller | None = None
        self._messages: list[ReceivedMessage] = []
        self._cond = threading.Condition()

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("SmtpPeer has no port before its first start()")
        return self._port

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> SmtpPeer:
        """Listen (again) on 127.0.0.1; on the first start pick a free port unless one was given."""
        if self._controller is not None:
            raise RuntimeError("SmtpPeer already running")
        if self._port is not None:
            # Restart on our port: wait (briefly) until nothing else holds it.
            deadline = time.monotonic() + self._ready_timeout
            while not _port_free(self._port):
                if time.monotonic() > deadline:
                    raise OSError(errno.EADDRINUSE, f"port {HOST}:{self._port} is in use")
                time.sleep(0.05)
            self._controller = self._start_controller(self._port)
            return self
        for attempt in range(3):  # a free port may be taken between choosing and binding it
            port = _free_port()
            try:
                self._controller = self._start_controller(port)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or attempt == 2:
                    raise
                continue
            self._port = port
            break
        return self

    def _start_controller(self, port: int) -> Controller:
        # aiosmtpd's Controller closes its event loop on stop(): a new one for each start.
        controller = Controller(
            _Handler(self),
            hostname=HOST,
            port=port,
            server_hostname="ketnap-test-smtp.localhost",  # no getfqdn(): no DNS lookup
            ready_timeout=self._ready_timeout,
            enable_SMTPUTF8=True,
            decode_data=False,
        )
        try:
            controller.start()
        except BaseException:
            with contextlib.suppress(Exception):
                controller.stop(no_assert=True)
            with contextlib.suppress(Exception):
                if not controller.loop.is_closed():
                    controller.loop.close()
            raise
        return controller

    def stop(self) -> None:
        """Stop listening: connections to the port are refused until ``start()``."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> SmtpPeer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- received messages ---------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMessage]:
        """A snapshot of the messages received so far, oldest first."""
        with self._cond:
            return list(self._messages)

    def clear(self) -> None:
        with self._cond:
            self._messages.clear()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Wait until at least ``n`` messages have arrived; return them all.

        Raises ``TimeoutError`` if fewer have arrived after ``timeout`` seconds.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._messages) >= n, timeout):
                raise TimeoutError(
                    f"SmtpPeer on port {self._port}: {len(self._messages)} message(s) "
                    f"received, {n} expected within {timeout}s"
                )
            return list(self._messages)

    def _record(self, message: ReceivedMessage) -> None:
        with self._cond:
            self._messages.append(message)
            self._cond.notify_all()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<SmtpPeer {HOST}:{self._port} {state}, {len(self.messages)} message(s)>"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_free(port: int) -> bool:
    """Whether a listener could bind 127.0.0.1:port now (with SO_REUSEADDR, as asyncio does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
        return True
