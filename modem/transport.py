"""The transport seam: a serial port (or pty, socket, loop) opened from a URL.

Everything below the AT parser is a ``serial.SerialBase``: ``/dev/ttyUSB0``,
``/dev/serial/by-id/...``, a pty path, ``socket://host:port``, ``loop://``, ``spy://...``.
pyserial's ``SerialException``/``OSError``/``ValueError`` are translated into
:class:`~modem.errors.PortClosed` here and nowhere else, with ``raise ... from exc``.
"""

from __future__ import annotations

import serial

from modem.errors import PortClosed

__all__ = ["PORT_ERRORS", "open_port", "read_some", "write_all"]

PORT_ERRORS = (serial.SerialException, OSError)
"""Exceptions that mean the port itself failed (as opposed to a bug in our code)."""
_OPEN_ERRORS = (serial.SerialException, OSError, ValueError)  # ValueError: unknown URL scheme
# pyserial raises TypeError/AttributeError when the port is closed under a reader or writer.
_IO_ERRORS = (serial.SerialException, OSError, TypeError, AttributeError)


def open_port(
    url: str, *, baudrate: int = 115200, rtscts: bool = False, timeout: float = 0.1
) -> serial.SerialBase:
    """Open ``url`` for exclusive use; ``timeout`` bounds each read so readers can stop."""
    try:
        port = serial.serial_for_url(url, do_not_open=True, baudrate=baudrate, timeout=timeout)
        port.rtscts = rtscts
        port.write_timeout = max(timeout, 5.0)  # a wedged USB stack must not block us forever
        # flock() on POSIX keeps a second daemon (or ModemManager) off the modem; URL
        # handlers without a lock (socket://, loop://) ignore the setting.
        port.exclusive = True
        port.open()
    except _OPEN_ERRORS as exc:
        raise PortClosed(f"cannot open {url}: {exc}") from exc
    return port


def read_some(port: serial.SerialBase) -> bytes:
    """Whatever is waiting (at least one byte, or b"" after the read timeout)."""
    try:
        waiting = port.in_waiting
        data: bytes = port.read(max(1, waiting))
    except _IO_ERRORS as exc:
        raise PortClosed(f"read failed: {exc}") from exc
    return data


def write_all(port: serial.SerialBase, data: bytes) -> None:
    """Write ``data`` and wait until it left the buffer."""
    try:
        port.write(data)
        port.flush()
    except _IO_ERRORS as exc:
        raise PortClosed(f"write failed: {exc}") from exc
