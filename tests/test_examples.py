"""examples/ holds what the tool generates now; `python examples/refresh.py` rewrites it."""

from __future__ import annotations

import importlib.util

import pytest

from scaffold.cli import cli
from scaffold.names import snake_case
from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location(
    "refresh", ROOT / "examples" / "refresh.py"
)
refresh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(refresh)


@pytest.mark.parametrize("args", refresh.EXAMPLES, ids=lambda a: a[1])
def test_example_is_current(runner, args):
    result = runner.invoke(
        cli, ["new", *args, "-o", str(ROOT / "examples"), "--stdout"]
    )
    assert result.exit_code == 0, result.output
    example = ROOT / "examples" / f"{snake_case(args[1])}.py"
    assert (
        example.read_text() == result.output
    ), f"{example.name} is stale: run `python examples/refresh.py`"


def test_no_stray_examples():
    expected = {f"{snake_case(args[1])}.py" for args in refresh.EXAMPLES} | {
        "refresh.py"
    }
    assert {p.name for p in (ROOT / "examples").glob("*.py")} == expected


TEAM = ROOT / "examples" / "team_templates"


def test_team_templates_add_a_header_to_a_builtin_kind(runner, tmp_path):
    result = runner.invoke(
        cli, ["new", "sequential", "Net", "--templates", str(TEAM), "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    source = (tmp_path / "net.py").read_text()
    doc = source.split('"""')[1]
    assert doc.startswith("Net: a Keras 3 model subclass")
    assert doc.rstrip().endswith("Copyright (c) Example Corp. Internal use only.")
    # Only the docstring differs from the built-in kind.
    plain = runner.invoke(cli, ["new", "sequential", "Net", "--stdout"]).output
    assert source.split('"""', 2)[2] == plain.split('"""', 2)[2]


def test_team_templates_pass_their_own_check(runner):
    pytest.importorskip("keras")
    result = runner.invoke(cli, ["templates", "check", str(TEAM)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split() == [
        "residual",
        "Checked",
        "tensorflow",
        "ok",
    ]


@pytest.mark.parametrize(
    ("option", "marker"),
    [
        (["--train-step"], "def train_step(self, data):"),
        # The shared train-step table and step partial bring accumulation too.
        (["--accumulate", "2"], "self._build_accumulators()"),
    ],
)
def test_team_kind_with_the_builtin_train_step_partial_trains(
    runner, tmp_path, option, marker
):
    pytest.importorskip("keras")
    from scaffold.kinds import InputSpec
    from scaffold.verify import check_file

    result = runner.invoke(
        cli,
        ["new", "residual", "Res", *option, "--blocks", "3"]
        + ["--templates", str(TEAM), "-o", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert marker in (tmp_path / "res.py").read_text()
    [outcome] = check_file(tmp_path / "res.py", InputSpec(shape=(5,)))
    assert outcome.ok, outcome


@pytest.mark.slow
def test_every_example_passes_check_through_the_console_script():
    """`kscaffold check examples/`: one row per class, each built, trained, round-tripped."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("keras")
    script = shutil.which("kscaffold") or str(Path(sys.executable).parent / "kscaffold")
    run = subprocess.run(
        [script, "check", str(ROOT / "examples")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    classes = [line.split()[1::2][:2] for line in run.stdout.strip().splitlines()[1:]]
    assert sorted(classes) == sorted(
        [[args[1], "ok"] for args in refresh.EXAMPLES]
    ), run.stdout
