"""Keep the daemon small at rest: modules its libraries import but it never uses stay out.

Issue 12 asks for an idle ``smsd run`` of at most 30 MB resident (`benchmarks/idle.py`;
gammu-smsd holds 13 MB, smstools3 11 MB). What a CPython daemon holds is mostly what it
imported, and the largest part the daemon never uses came in with structlog:

- **asyncio (and through it ssl and OpenSSL)**: ``structlog/__init__.py`` imports every
  submodule, and ``structlog.stdlib`` and ``structlog._native`` ``import asyncio`` at the top
  for their ``a*`` (async) logging methods, which the daemon never calls. asyncio imports ssl,
  which maps libssl and libcrypto. About 9 MB of VmRSS on the idle daemon; no structlog
  setting avoids it (structlog 26.1). `defer_unused_imports` puts a stand-in for asyncio into
  ``sys.modules`` before structlog is imported: structlog's ``import asyncio`` binds the
  stand-in, and the first attribute anyone reads from it imports the real asyncio and answers
  from it, so code that does use asyncio sees no difference. (`importlib.util.LazyLoader` is
  the same idea, but on Python 3.11 the ``import`` statement itself reads ``__spec__`` from the
  module and so loads it at once.)
- **greenlet**: structlog's deprecated ``threadlocal`` module imports it whenever it is
  installed (only the test extra brings it, for playwright) and the C extension costs about
  1 MB. The daemon runs no greenlets, so the import is made to fail as it does in a production
  install, and structlog uses `threading.local` there too.

Call `defer_unused_imports` before anything imports structlog (``smsd run`` does it first
thing); once a module is loaded it is left alone. `tests/test_daemon_memory.py` checks the
real daemon, after traffic, by the shared objects mapped into it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType

__all__ = ["BLOCKED", "DEFERRED", "StandIn", "defer_unused_imports"]

#: Imported by the daemon's libraries at start-up, used by nothing the daemon runs.
DEFERRED = ("asyncio",)
#: Optional imports of its libraries that the daemon refuses (they fall back without them).
BLOCKED = ("greenlet",)

_SWAP = threading.Lock()


class StandIn(ModuleType):
    """Holds a module's place in ``sys.modules`` until one of its attributes is read.

    Its ``__spec__`` and ``__file__`` are the real module's, so ``import name`` and tools that
    scan ``sys.modules`` for files take it as loaded; any other attribute imports the real
    module, which from then on is ``sys.modules[name]`` and which this object forwards to.
    """

    def __getattr__(self, attr: str) -> object:
        name = self.__name__
        with _SWAP:  # two threads may read at once: only the stand-in itself is removed
            if sys.modules.get(name) is self:
                del sys.modules[name]
        real = importlib.import_module(name)  # the import lock makes a racing thread wait
        self.__dict__.update(real.__dict__)  # later reads are plain attribute reads
        return getattr(real, attr)


def _stand_in(name: str) -> StandIn | None:
    spec = importlib.util.find_spec(name)
    if spec is None:
        return None
    module = StandIn(name)
    module.__spec__ = spec
    module.__file__ = spec.origin
    module.__loader__ = spec.loader
    return module


def defer_unused_imports() -> list[str]:
    """Stand-ins for `DEFERRED`, refusals for `BLOCKED`; return the names this changed.

    A module that is already imported (or already handled) is left as it is.
    """
    changed: list[str] = []
    for name in DEFERRED:
        if name not in sys.modules and (module := _stand_in(name)) is not None:
            sys.modules[name] = module
            changed.append(name)
    for name in BLOCKED:
        if name not in sys.modules:
            # The import system's own convention: None in sys.modules makes `import name`
            # raise ModuleNotFoundError, which structlog catches (see the module docstring).
            sys.modules[name] = None  # type: ignore[assignment]
            changed.append(name)
    return changed
