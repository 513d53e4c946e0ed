"""The harness for tests, benchmarks and the demo (as ``structlog.testing`` is structlog's).

Real parts, no mocks: the daemon as a child process (:class:`DaemonProcess`, the ``smsd run``
console script, READY over a real notify socket), waiting with deadlines (:func:`wait_until`),
and databases seeded through the store (:func:`make_db`) and read back as an auditor would
(:func:`rows`); real HTTP for the API and webhooks (:func:`serving` an ASGI app under uvicorn,
a webhook :class:`Receiver`, :class:`WebProcess`); a throwaway PostgreSQL server
(``smsd.testing.pgcluster``). Never imported by the daemon itself.
"""

from smsd.testing.daemon import DaemonProcess, kill_leftovers, running_daemon, smsd_command
from smsd.testing.notify import NotifyListener, notify_socket
from smsd.testing.receiver import Received, Receiver, WebProcess, free_socket, serving
from smsd.testing.seeding import (
    StatementLog,
    host_config,
    make_db,
    pg_count,
    rows,
    sent_by,
    texts_to,
    write_config,
)
from smsd.testing.waiting import wait_until

__all__ = [
    "DaemonProcess",
    "NotifyListener",
    "Received",
    "Receiver",
    "StatementLog",
    "WebProcess",
    "free_socket",
    "host_config",
    "kill_leftovers",
    "make_db",
    "notify_socket",
    "pg_count",
    "rows",
    "running_daemon",
    "sent_by",
    "serving",
    "smsd_command",
    "texts_to",
    "wait_until",
    "write_config",
]
