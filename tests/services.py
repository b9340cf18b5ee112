"""Access to the real services the suite talks to (PostgreSQL, Redis)."""

import asyncio
import contextlib
import os
import socket

import pytest


def broker_url_or_skip():
    """The broker from CELERY_BROKER_URL. In CI a missing broker fails the test rather
    than skipping it, so a green CI always means the broker tests ran."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail("CELERY_BROKER_URL must point at a broker in CI.")
    pytest.skip("No CELERY_BROKER_URL: set it to run the tests against a real broker.")


def postgresql_or_skip(connection):
    """For behaviour only PostgreSQL has (triggers). In CI, where the suite must run on
    PostgreSQL, another database fails the test instead of skipping it."""
    if connection.vendor == "postgresql":
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI must run the suite on PostgreSQL (DATABASE_URL).")
    pytest.skip("Runs on PostgreSQL only: set DATABASE_URL to a PostgreSQL database.")


def free_port() -> int:
    """A port nothing listens on right now (aiosmtpd needs a real one to start)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """A real SMTP server in this process (aiosmtpd) that can refuse addresses, or answer
    chosen messages (numbered from 1, as they arrive) with a temporary error, and
    records what it accepted."""

    def __init__(
        self,
        refuse=(),
        fail_messages=(),
        greylist=(),
        refuse_sender=None,
        reject_messages=(),
        drop_messages=(),
        seconds_per_message=0,
    ):
        from aiosmtpd.controller import Controller

        self.refuse, self.fail_messages = set(refuse), set(fail_messages)
        # Addresses answered 450 at RCPT the first time they are tried (greylisting).
        self.greylist, self.greylisted = set(greylist), set()
        self.refuse_sender = refuse_sender  # an answer to MAIL FROM, e.g. "421 Try later"
        self.reject_messages = set(reject_messages)  # message numbers answered 554 at DATA
        self.drop_messages = set(drop_messages)  # message numbers whose connection is cut at DATA
        self.seconds_per_message = seconds_per_message  # a slow server, so faults land mid-run
        self.messages, self.received = 0, []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user"
        if address in self.greylist and address not in self.greylisted:
            self.greylisted.add(address)
            return "450 4.2.0 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        if self.seconds_per_message:
            await asyncio.sleep(self.seconds_per_message)
        if self.messages in self.fail_messages:
            return "451 4.3.0 Try again later"
        if self.messages in self.reject_messages:
            return "554 5.7.1 Message rejected"
        if self.messages in self.drop_messages:
            server.transport.close()
            return "421 4.4.2 Connection dropped"
        self.received.append((envelope.rcpt_tos[:], envelope.content.decode()))
        return "250 Message accepted"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def settings(self):
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
        }

    def recipients(self):
        return sorted(address for tos, _ in self.received for address in tos)


@contextlib.contextmanager
def eager_celery():
    """Run tasks in this process even when CI configures a broker."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous
