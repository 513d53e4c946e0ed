"""phonenumbers' parsing half, loaded without the rest of the package.

`smsd.numbers` needs ``parse``, ``is_possible_number`` and ``format_number``, all in
``phonenumbers.phonenumberutil``. The package's ``__init__`` also imports the as-you-type
formatter, the short-number tables and the text matcher (which compiles about 15 regular
expressions), which is a third of ``smsd send``'s phonenumbers cost. Importing a submodule
always runs its package's ``__init__`` first, so when nothing has imported phonenumbers yet we
put a stand-in package in ``sys.modules``: it has the real ``__path__``, so the submodule loads
from it, and the first attribute anyone reads from it that is not there yet runs the real
``__init__`` into it (once, under a lock), so a later ``import phonenumbers`` anywhere in the
process still gets the whole package.
"""

from __future__ import annotations

import sys
import threading
from importlib.machinery import PathFinder
from types import ModuleType

__all__ = ["prepare"]

_LOCK = threading.RLock()


def _stand_in(name: str) -> ModuleType | None:
    """A package module for `name` that runs its ``__init__`` on first missing attribute."""
    spec = PathFinder.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return None
    loader = spec.loader
    package = ModuleType(name)
    package.__spec__ = spec
    package.__loader__ = loader
    package.__file__ = spec.origin
    package.__path__ = list(spec.submodule_search_locations)
    package.__package__ = name
    pending = [True]

    def complete(attribute: str) -> object:
        with _LOCK:  # re-entrant: the ``__init__`` reading its own package skips this
            if pending:
                pending.clear()
                loader.exec_module(package)
        try:
            return package.__dict__[attribute]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}") from None

    package.__getattr__ = complete  # type: ignore[method-assign]  # PEP 562
    return package


def prepare() -> None:
    """Load ``phonenumbers.phonenumberutil``, without the package's other modules if
    phonenumbers is not loaded yet (a loaded package is left as it is).

    Afterwards ``from phonenumbers import phonenumberutil`` finds it without completing the
    package (a ``from`` import of a submodule not yet loaded reads the attribute first).
    """
    with _LOCK:
        if "phonenumbers" not in sys.modules:
            package = _stand_in("phonenumbers")
            if package is not None:
                sys.modules["phonenumbers"] = package
        import phonenumbers.phonenumberutil  # noqa: F401  (binds it on the package)
