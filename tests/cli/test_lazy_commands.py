"""The CLI imports a command's module only when that command runs: starting `telbill` loads
neither Polars (mediation, rating) nor FastAPI (the API); every command still resolves and
answers --help."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from telbill.cli.main import COMMANDS, app


def test_starting_the_cli_loads_no_heavy_module():
    code = (
        "import sys, telbill.cli.main as m; "
        "print(sorted(x for x in ('polars', 'pyarrow', 'fastapi', 'typst', 'saxonche') if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_resolves_and_answers_help(name):
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output and name in result.output


def test_the_root_help_lists_every_command():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output
    assert CliRunner().invoke(app, ["no-such-command"]).exit_code != 0
