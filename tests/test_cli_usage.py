"""A bad command line is one line on stderr and exit 2; `--help` and a bare group still help.

Click prints three lines for a usage error (Usage:, Try '... --help', Error: ...); `smsd`
prints one, naming the command it arose in, with the hint in the same line
(`cli.main.OneLineUsageError`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli

#: (command line, the command named in the error, words the problem must contain)
BAD_LINES = [
    (["sned", "+447700900123", "hi"], "smsd", "No such command 'sned'"),
    (["--nope"], "smsd", "No such option '--nope'"),
    (["send", "+447700900123"], "smsd send", "Missing argument 'TEXT'"),
    (["send", "--bogus", "+447700900123", "hi"], "smsd send", "No such option '--bogus'"),
    (["history", "Pizza", "--since", "soon"], "smsd history", "Invalid value for '--since'"),
    (["stats", "--min-people", "1"], "smsd stats", "Invalid value for '--min-people'"),
    (["code", "add"], "smsd code add", "Missing argument 'COMPANY'"),
    (["user", "erase", "ABC234", "--yes"], "smsd user erase", "Missing option '--reason'"),
    (["company", "frobnicate"], "smsd company", "No such command 'frobnicate'"),
]


def smsd(tmp_path: Path, *args: str) -> Result:
    """`smsd --db TMP ARGS` as the console script runs it (program name `smsd`)."""
    return CliRunner().invoke(cli, ["--db", str(tmp_path / "smsd.db"), *args], prog_name="smsd")


@pytest.mark.parametrize(("args", "command", "problem"), BAD_LINES)
def test_usage_error_is_one_line_naming_the_command(
    tmp_path: Path, args: list[str], command: str, problem: str
) -> None:
    """Unknown command or option, missing argument or option, bad value: one line, exit 2."""
    result = smsd(tmp_path, *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    line = result.stderr.rstrip("\n")
    assert line.startswith(f"{command}: error: ")
    assert problem in line
    assert line.endswith(f"({command} --help for help)")
    assert not (tmp_path / "smsd.db").exists()  # refused before anything ran


def test_usage_error_escapes_what_was_typed(tmp_path: Path) -> None:
    """A control character typed as a command name never reaches the terminal raw."""
    result = smsd(tmp_path, "\x1b[2Jsend")
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and result.stderr.count("\n") == 1


def test_help_and_bare_groups_still_print_help(tmp_path: Path) -> None:
    """`--help` is unchanged (exit 0); `smsd` or a group alone prints its help, not an error."""
    helped = smsd(tmp_path, "send", "--help")
    assert helped.exit_code == 0
    assert helped.stdout.startswith("Usage: smsd send [OPTIONS] NUMBER TEXT")
    alone = CliRunner().invoke(cli, [], prog_name="smsd")
    group = smsd(tmp_path, "company")
    for bare, usage in ((alone, "Usage: smsd [OPTIONS]"), (group, "Usage: smsd company")):
        assert bare.exit_code == 2
        assert bare.stderr.startswith(usage) and "Commands:" in bare.stderr


def test_real_console_script_prints_one_line(tmp_path: Path) -> None:
    """Through the real entry point in a fresh process: one line on stderr, exit 2."""
    script = Path(sys.executable).with_name("smsd")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSD_")}
    done = subprocess.run(
        [*argv, "--db", str(tmp_path / "smsd.db"), "send", "+447700900123"],
        env={**env, "SMSD_CONFIG": os.devnull},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "smsd send: error: Missing argument 'TEXT'. (smsd send --help for help)\n"
    )
