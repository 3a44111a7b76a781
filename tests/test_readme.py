"""The README's two fresh-machine commands, and CI running the test one verbatim."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", text, re.DOTALL).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_has_exactly_two_commands_and_ci_runs_the_test_one():
    main_job, tests = readme_commands()
    assert "kscaffold new" in main_job and "pip install ." in main_job
    assert "pytest" in tests
    assert tests in (ROOT / ".ci" / "run").read_text()


def test_the_readme_kind_metadata_is_valid(tmp_path):
    """The kind.toml shown under "Add a kind" loads, and its rule and link work."""
    from click.testing import CliRunner

    from scaffold.cli import cli

    text = (ROOT / "README.md").read_text()
    block = re.search(r"```toml\n(.*?)```", text, re.DOTALL).group(1)
    kind = tmp_path / "team" / "residual"
    kind.mkdir(parents=True)
    (kind / "kind.toml").write_text("\n".join(line[2:] for line in block.splitlines()))
    (kind / "model.py.j2").write_text("WIDTH = {{ width }}\n")
    runner = CliRunner()
    team = ["--templates", str(tmp_path / "team")]
    result = runner.invoke(cli, ["show", "residual", *team])
    assert result.exit_code == 0, result.output
    assert "refused (a width of 1 cannot carry a residual)" in result.output
    result = runner.invoke(cli, ["new", "residual", "Res", "--width", "1", *team])
    assert result.exit_code == 2
    assert "--width 1: a width of 1 cannot carry a residual" in result.output
    args = ["new", "residual", "Res", "--accumulate", "2", "--no-train-step", *team]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2 and "--accumulate needs --train-step" in result.output
