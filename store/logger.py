"""`get_logger`: a structlog logger that imports structlog on its first call.

A start-up optimisation, nothing more: ``import structlog`` loads asyncio and ssl (through
``structlog.stdlib`` and ``structlog.dev``), tens of milliseconds, and a short command such as
``smsd send`` opens the store, queues one row and logs nothing. Modules of the store log
through ``log = get_logger(__name__)`` exactly as they would through structlog's; the first
call imports structlog and keeps structlog's own lazy proxy, so configuration made later
(``structlog.configure``, ``structlog.testing.capture_logs``) still applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from structlog.typing import FilteringBoundLogger

__all__ = ["LazyLogger", "get_logger"]


class LazyLogger:
    """The logging methods the store uses, forwarded to a structlog logger made on first use."""

    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: FilteringBoundLogger | None = None

    def _real(self) -> FilteringBoundLogger:
        if self._logger is None:
            import structlog  # start-up cost: see the module docstring

            self._logger = structlog.get_logger(self._name)
        return self._logger

    def debug(self, event: str, **kw: object) -> None:
        """Log ``event`` at debug level."""
        self._real().debug(event, **kw)

    def info(self, event: str, **kw: object) -> None:
        """Log ``event`` at info level."""
        self._real().info(event, **kw)

    def warning(self, event: str, **kw: object) -> None:
        """Log ``event`` at warning level."""
        self._real().warning(event, **kw)

    def error(self, event: str, **kw: object) -> None:
        """Log ``event`` at error level."""
        self._real().error(event, **kw)

    def exception(self, event: str, **kw: object) -> None:
        """Log ``event`` at error level with the exception being handled."""
        self._real().exception(event, **kw)


def get_logger(name: str) -> LazyLogger:
    """A logger named ``name`` that loads structlog when it first logs."""
    return LazyLogger(name)
