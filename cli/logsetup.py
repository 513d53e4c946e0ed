"""Configure structlog for a command when structlog is first imported, not before.

A start-up optimisation: ``import structlog`` loads asyncio and ssl (tens of milliseconds)
and most commands, ``smsd send`` first of all, log nothing. The layers below log through
loggers that import structlog on their first call (`store.logger`), so structlog arrives only
when something is about to be logged. It must be configured before that first event (its
defaults print every level on stdout, which belongs to the command's table or JSON), so this
module puts a finder on `sys.meta_path` that lets the import of structlog finish and then runs
`smsd.logs.configure_logging`. When structlog is already loaded it configures at once.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["configure_when_imported"]

_MODULE = "structlog"


def _then_after(spec: ModuleSpec, then: Callable[[], None]) -> None:
    """Wrap ``spec``'s loader so ``then()`` runs once the module is complete."""
    # Start-up cost: importlib.abc pulls in importlib.resources; needed only at this point.
    from importlib.abc import Loader

    if spec.loader is None:
        return
    inner: Loader = spec.loader

    class ThenLoader(Loader):
        def create_module(self, spec: ModuleSpec) -> ModuleType | None:
            return inner.create_module(spec)

        def exec_module(self, module: ModuleType) -> None:
            inner.exec_module(module)
            then()

    spec.loader = ThenLoader()


class _AfterImport:
    """Finds structlog as usual (once), with its loader wrapped to call ``then`` afterwards."""

    def __init__(self, then: Callable[[], None]) -> None:
        self._then = then

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != _MODULE:
            return None
        sys.meta_path.remove(self)  # one shot; the finders after us locate the real module
        spec = importlib.util.find_spec(fullname)
        if spec is not None:
            _then_after(spec, self._then)
        return spec


def configure_when_imported(level: str, fmt: str | None = None) -> None:
    """`smsd.logs.configure_logging(level, fmt)` now if structlog is loaded, else on its import."""

    def configure() -> None:
        from smsd.logs import configure_logging  # imports structlog: only once it is loaded

        configure_logging(level, fmt)

    if _MODULE in sys.modules:
        configure()
        return
    for finder in list(sys.meta_path):  # a second command in one process replaces the first's
        if isinstance(finder, _AfterImport):
            sys.meta_path.remove(finder)
    sys.meta_path.insert(0, _AfterImport(configure))
