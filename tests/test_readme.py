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


def test_the_readme_update_cycle_is_what_kscaffold_prints(tmp_path, monkeypatch):
    """The console session under "Keeping generated code up to date", replayed."""
    import shlex

    from click.testing import CliRunner

    from scaffold.cli import cli

    text = (ROOT / "README.md").read_text()
    section = text.split("## Keeping generated code up to date", 1)[1]
    session = re.search(r"```console\n(.*?)```", section, re.DOTALL).group(1)
    steps = re.findall(r"^\$ (.*)\n((?:(?!\$ ).*\n)*)", session, re.MULTILINE)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    ran = 0
    for command, expected in steps:
        if command.startswith("# edit net.py"):
            line = re.search(r"`(.*)`", command).group(1)
            model = tmp_path / "net.py"
            source = model.read_text()
            assert "        x = inputs\n" in source
            model.write_text(
                source.replace(
                    "        x = inputs\n", f"        x = inputs\n        {line}\n", 1
                )
            )
        elif command.startswith("grep -n"):
            pattern = shlex.split(command)[2].replace("\\|", "|")
            lines = (tmp_path / "net.py").read_text().splitlines()
            found = [
                f"{n}:{line}\n"
                for n, line in enumerate(lines, 1)
                if re.search(pattern, line)
            ]
            assert "".join(found) == expected
        else:
            args = shlex.split(command)
            assert args[0] == "kscaffold"
            result = runner.invoke(cli, args[1:])
            assert result.output == expected, command
            ran += 1
    assert ran == 6
