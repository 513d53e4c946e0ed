"""The `smsd` group loads each command on demand, and completion still sees every one."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli.lazy import LazyCommand, LazyGroup
from cli.main import COMMANDS, cli

CLI_DIR = Path(__file__).resolve().parent.parent / "cli"

#: Runs one `smsd` command line in a fresh interpreter, then prints the modules it loaded.
_PROBE = """
import json, sys
from cli.main import main
sys.argv = ["smsd", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_modules(tmp_path: Path, *args: str) -> tuple[str, list[str]]:
    """Run ``smsd --db TMP ARGS`` in a fresh interpreter: its stdout and its loaded modules."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "--db", str(tmp_path / "smsd.db"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    modules: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, modules


def test_send_imports_only_what_it_uses(tmp_path: Path) -> None:
    """`smsd send` loads cli.send but no other command, no daemon, no modem driver, no simulator."""
    stdout, modules = loaded_modules(tmp_path, "send", "+447700900123", "hello")
    assert stdout.startswith("queued message 1 to +447700900123")
    commands = {m for m in modules if m.startswith("cli.")} & {
        lazy.target.split(":")[0] for lazy in COMMANDS.values()
    }
    assert commands == {"cli.send"}
    # The config reads modem settings, a stdlib-only leaf; the pure PDU splitter counts the
    # parts (issue 16). Neither is the driver, pyserial or the simulator.
    light = ("modem.errors", "modem.settings", "modem.pdu", "modem.gsm7")
    heavy = [
        m
        for m in modules
        if m.startswith(("modem", "smsd.daemon", "smsd.worker", "serial"))
        and m != "modem"
        and not m.startswith(light)
    ]
    assert heavy == []


def test_help_lists_every_command_without_importing_one(tmp_path: Path) -> None:
    """`smsd --help` from a bare import lists every command and loads none, nor the store."""
    stdout, modules = loaded_modules(tmp_path, "--help")
    listed = [line.split()[0] for line in stdout.split("Commands:")[1].strip().splitlines()]
    assert listed == sorted(COMMANDS)
    targets = {lazy.target.split(":")[0] for lazy in COMMANDS.values()}
    assert [m for m in modules if m in targets or m.startswith(("store", "modem"))] == []


def test_summaries_match_the_commands() -> None:
    """Each summary `smsd --help` shows is the first sentence of its command's docstring."""
    for name, lazy in COMMANDS.items():
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=1000) == lazy.summary, name


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [("smsd s", "1", ["send", "sim", "stats"]), ("smsd company a", "2", ["add", "approve"])],
)
def test_shell_completion_sees_lazy_commands(words: str, cword: str, expected: list[str]) -> None:
    """Bash completion offers lazy commands and their subcommands."""
    env = {"_SMSD_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
    result = CliRunner().invoke(cli, [], prog_name="smsd", env=env)
    assert result.exit_code == 0
    assert result.output.split() == [f"plain,{name}" for name in expected]


def test_lazy_target_must_be_a_command() -> None:
    """A mapping to something that is not a Click command fails loudly, naming it."""
    group = LazyGroup(name="x", lazy_commands={"bad": LazyCommand("cli.context:fail", "Bad.")})
    with pytest.raises(TypeError, match=r"cli\.context:fail"):
        group.get_command(click.Context(group), "bad")


def test_no_cli_module_imports_main() -> None:
    """Command and helper modules never import `cli.main` (no circle back to the group); only
    the console script's entry (`cli.entry`, above the group) does."""
    offenders = []
    for path in sorted(CLI_DIR.glob("*.py")):
        if path.name in {"main.py", "__init__.py", "__main__.py", "entry.py"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in {"cli", "cli.main"}:
                offenders.append(path.name)
    assert offenders == []
