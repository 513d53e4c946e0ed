"""`smsd.phonelib`: phonenumbers' parser without the rest, and the whole package on demand.

Each test runs in a fresh interpreter, because this one may have loaded phonenumbers already.
"""

from __future__ import annotations

import json
import subprocess
import sys


def _run(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_parsing_loads_only_the_parser() -> None:
    """Normalising a number loads phonenumberutil but not the matcher or the formatter."""
    result = _run(
        "import json, sys\n"
        "from smsd.numbers import to_e164\n"
        "number = to_e164('07700 900123')\n"
        "print(json.dumps({'number': number, 'modules': sorted(sys.modules)}))\n"
    )
    modules = set(result["modules"])  # type: ignore[call-overload]
    assert result["number"] == "+447700900123"
    assert "phonenumbers.phonenumberutil" in modules
    assert not {"phonenumbers.phonenumbermatcher", "phonenumbers.asyoutypeformatter"} & modules


def test_a_later_import_gets_the_whole_package() -> None:
    """After the parser alone, `import phonenumbers` offers every name, with the parser's own
    objects (one exception class, one parse function), and `from` imports of submodules work."""
    result = _run(
        "import json, sys\n"
        "from smsd.numbers import to_e164\n"
        "to_e164('+447700900123')\n"
        "util = sys.modules['phonenumbers.phonenumberutil']\n"
        "import phonenumbers\n"
        "from phonenumbers import timezone\n"
        "print(json.dumps({\n"
        "  'same_parse': phonenumbers.parse is util.parse,\n"
        "  'same_error': phonenumbers.NumberParseException is util.NumberParseException,\n"
        "  'formatter': phonenumbers.AsYouTypeFormatter.__name__,\n"
        "  'zones': list(timezone.time_zones_for_number(phonenumbers.parse('+12025550142'))),\n"
        "  'missing': hasattr(phonenumbers, 'no_such_name'),\n"
        "}))\n"
    )
    assert result == {
        "same_parse": True,
        "same_error": True,
        "formatter": "AsYouTypeFormatter",
        "zones": ["America/New_York"],
        "missing": False,
    }


def test_threads_completing_the_package_at_once_all_see_it() -> None:
    """Eight threads reading a name the stand-in lacks at the same moment all get it."""
    result = _run(
        "import json, threading\n"
        "from smsd import phonelib\n"
        "phonelib.prepare()\n"
        "import phonenumbers\n"
        "barrier = threading.Barrier(8)\n"
        "seen = []\n"
        "def read():\n"
        "    barrier.wait()\n"
        "    seen.append(phonenumbers.PhoneNumberMatcher.__name__)\n"
        "threads = [threading.Thread(target=read) for _ in range(8)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "print(json.dumps({'seen': seen}))\n"
    )
    assert result == {"seen": ["PhoneNumberMatcher"] * 8}


def test_a_loaded_package_is_left_alone() -> None:
    """When phonenumbers is already imported, `prepare` keeps that module object."""
    result = _run(
        "import json, sys\n"
        "import phonenumbers\n"
        "before = sys.modules['phonenumbers']\n"
        "from smsd import phonelib\n"
        "phonelib.prepare()\n"
        "print(json.dumps({'same': sys.modules['phonenumbers'] is before}))\n"
    )
    assert result == {"same": True}
