"""One SMTP session (smtplib), and what the server's answers mean for a message: sent,
refused for good (5xx), to try later (4xx), or the server unreachable or refusing us —
then every remaining mail waits."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from workflow.config import SmtpSettings

SMTP_TIMEOUT = 20  # seconds
HELO_NAME = "ketnap.localhost"  # no DNS lookup of our own name


class ConnectionTrouble(Exception):
    """The server is unreachable or refuses us: every remaining mail waits."""


class Refused(Exception):
    """The server refused this message for good (5xx)."""


class Later(Exception):
    """The server asked to try this message later (4xx)."""


class Mailer:
    """One SMTP session: TLS from the start (`ssl`) or upgraded (`starttls`)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.client: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        try:
            self.client = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            raise ConnectionTrouble(describe(error)) from error
        return self

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host,
                s.port,
                local_hostname=HELO_NAME,
                timeout=SMTP_TIMEOUT,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(s.host, s.port, local_hostname=HELO_NAME, timeout=SMTP_TIMEOUT)
        if s.starttls and not s.ssl:
            client.starttls(context=ssl.create_default_context())
        if s.username:
            client.login(s.username, s.password)
        return client

    def send(self, message: EmailMessage) -> None:
        assert self.client is not None
        try:
            self.client.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise (Refused if all(500 <= c < 600 for c in codes) else Later)(
                describe(error)
            ) from error
        except (smtplib.SMTPSenderRefused, smtplib.SMTPServerDisconnected) as error:
            raise ConnectionTrouble(describe(error)) from error
        except smtplib.SMTPResponseException as error:
            kind = Refused if 500 <= error.smtp_code < 600 else Later
            raise kind(describe(error)) from error
        except OSError as error:
            raise ConnectionTrouble(describe(error)) from error
        except (smtplib.SMTPException, ValueError, TypeError, LookupError) as error:
            # this message cannot be written or sent as it is (a header `email` refuses,
            # an address the server cannot take …): it fails for good, the others go on
            raise Refused(describe(error)) from error

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except (OSError, smtplib.SMTPException):
                self.client.close()


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]
