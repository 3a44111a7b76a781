"""The command line through Click's CliRunner: output, exit codes, and nothing written on error."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scaffold import __version__
from scaffold.cli import cli
from tests.conftest import ROOT, tree

BAD_INPUT = [
    # (arguments, text the one-line message must contain)
    (["new", "mlp", "Net"], "'mlp'"),
    (["new", "../sequential", "Net"], "'../sequential'"),
    (["new", "_common", "Net"], "'_common'"),
    (["new", "sequential", ""], "NAME must not be empty"),
    (["new", "sequential", "1Net"], "'1Net'"),
    (["new", "sequential", "my-net"], "'my-net'"),
    (["new", "sequential", "Mоdel"], "'Mоdel'"),  # Cyrillic o: isidentifier() says yes
    (["new", "sequential", "ﬁlter"], "'ﬁlter'"),  # ligature NFKC-folds to 'filter'
    (["new", "sequential", "class"], "keyword"),
    (["new", "sequential", "match"], "keyword"),
    (["new", "sequential", "keras"], "'keras'"),
    (["new", "sequential", "tf"], "'tf'"),
    (["new", "sequential", "layers"], "'layers'"),
    (["new", "sequential", "ops"], "'ops'"),
    (["new", "sequential", "Keras"], "'keras'"),  # keras.py would shadow keras
    (["new", "sequential", "list"], "'list'"),
    (["new", "sequential", "Json"], "'json'"),  # json.py beside the model breaks keras
    (["new", "sequential", "Typing"], "'typing'"),
    (["new", "sequential", "__init__"], "'__init__'"),
    (["new", "sequential", "Net", "--units", "64,x"], "'64,x'"),
    (["new", "sequential", "Net", "--units", "64,,32"], "'64,,32'"),
    (["new", "sequential", "Net", "--units", "0"], "'0'"),
    (["new", "sequential", "Net", "--units", "-3"], "'-3'"),
    (["new", "sequential", "Net", "--units", "1.5"], "'1.5'"),
    (["new", "sequential", "Net", "--outputs", "0"], "'0'"),
    (["new", "sequential", "Net", "--outputs", "ten"], "'ten'"),
    (["new", "sequential", "Net", "--dropout", "1"], "'1'"),
    (["new", "sequential", "Net", "--dropout", "-0.1"], "'-0.1'"),
    (["new", "sequential", "Net", "--dropout", "nan"], "'nan'"),
    (["new", "sequential", "Net", "--accumulate", "1"], "'1'"),
    (["new", "sequential", "Net", "--accumulate", "two"], "'two'"),
    (["new", "sequential", "Net", "--activation", "relux"], "'relux'"),
    (["new", "sequential", "Net", "--output-activation", "Softmax"], "'Softmax'"),
    (["new", "sequential", "Net", "--no-such-option"], "--no-such-option"),
    (["new", "sequential"], "NAME"),
    (["new", "conditional", "Net", "--units", "a"], "'a'"),
    # Options that contradict each other, or belong to another kind.
    (["new", "sequential", "Net", "--accumulate", "2", "--no-train-step"], "--accumulate needs --train-step"),
    (["new", "layer", "Net", "--accumulate", "2"], "--accumulate does not apply to kind 'layer'"),
    (["new", "layer", "Net", "--no-train-step"], "--no-train-step does not apply to kind 'layer'"),
    (["new", "gan", "Net", "--horizon", "3"], "--horizon does not apply to kind 'gan'"),
    (["new", "recurrent", "Net", "--batch-size", "16"], "--batch-size applies only with --stateful"),
    (["new", "recurrent", "Net", "--batch-size", "16", "--no-stateful"], "--batch-size applies only with --stateful"),
    (["new", "recurrent", "Net", "--cell", "rnn"], "'rnn'"),
    (["new", "recurrent", "Net", "--horizon", "0"], "'0'"),
    (["new", "gan", "Net", "--data-shape", "28,0"], "'28,0'"),
    (["new", "gan", "Net", "--latent-dim", "0"], "'0'"),
    (["new", "gan", "Net", "--data-shape", ""], "expected at least 1 comma-separated"),
    (["new", "layer", "Net", "--units", "0"], "'0'"),
    (["new", "layer", "Net", "--units", "1", "--activation", "softmax"], "--units 1 with --activation 'softmax': one unit"),
    (["new", "sequential", "Net", "--outputs", "1", "--output-activation", "softmax"], "--outputs 1 with --output-activation 'softmax'"),
    (["new", "conditional", "Net", "--outputs", "1", "--output-activation", "log_softmax"], "--output-activation 'log_softmax'"),
    (["new", "sequential", "Net", "--activation", "glu"], "'glu'"),  # halves the width
    (["new", "sequential", "Net", "--activation", "threshold"], "'threshold'"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "named"), BAD_INPUT)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(runner, tmp_path, args, named):
    (tmp_path / "keep.py").write_text("# user file\n")
    before = tree(tmp_path)
    result = runner.invoke(cli, [*args, "-o", str(tmp_path)] if len(args) > 2 else args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert named in lines[0]
    assert "Traceback" not in result.output
    assert tree(tmp_path) == before


@pytest.mark.parametrize("name", ["Bin", "Max", "Input", "Abs"])
def test_names_that_shadow_nothing_are_accepted(runner, tmp_path, name):
    result = runner.invoke(cli, ["new", "sequential", name, "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output


def test_unknown_kind_lists_the_valid_ones(runner):
    result = runner.invoke(cli, ["new", "mlp", "Net"])
    assert (
        "choose from: conditional, gan, layer, recurrent, sequential" in result.output
    )


def test_writes_snake_case_file_in_output_dir(runner, tmp_path):
    result = runner.invoke(
        cli, ["new", "sequential", "HTTPRegressor", "-o", str(tmp_path / "models")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "models" / "http_regressor.py").is_file()
    assert result.output.strip() == f"wrote {tmp_path / 'models' / 'http_regressor.py'}"


def test_default_output_is_current_directory(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["new", "conditional", "MyModel"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "my_model.py").is_file()


def test_existing_file_is_kept_without_force(runner, tmp_path):
    target = tmp_path / "net.py"
    target.write_text("# mine\n")
    result = runner.invoke(cli, ["new", "sequential", "Net", "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {str(target)!r} already exists; use --force to overwrite it"
    ]
    assert target.read_text() == "# mine\n"
    result = runner.invoke(
        cli, ["new", "sequential", "Net", "-o", str(tmp_path), "--force"]
    )
    assert result.exit_code == 0, result.output
    assert "class Net(keras.Model)" in target.read_text()
    assert result.output.startswith("overwrote ")


def test_dry_run_writes_nothing(runner, tmp_path):
    result = runner.invoke(
        cli, ["new", "sequential", "Net", "-o", str(tmp_path / "out"), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"would write {tmp_path / 'out' / 'net.py'}"
    assert not (tmp_path / "out").exists()


def test_dry_run_says_which_file_would_need_force(runner, tmp_path):
    (tmp_path / "net.py").write_text("# mine\n")
    new = ["new", "sequential", "Net", "-o", str(tmp_path), "--with-test"]
    result = runner.invoke(cli, [*new, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"would overwrite {tmp_path / 'net.py'} (it exists: needs --force)",
        f"would write {tmp_path / 'test_net.py'}",
    ]
    forced = runner.invoke(cli, [*new, "--dry-run", "--force"])
    assert forced.output.splitlines()[0] == f"would overwrite {tmp_path / 'net.py'}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.py"]
    assert (tmp_path / "net.py").read_text() == "# mine\n"
    refused = runner.invoke(cli, new)  # without --dry-run: refused, as before
    assert refused.exit_code == 1 and "already exists" in refused.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.py"]


def test_stdout_prints_code_and_writes_nothing(runner, tmp_path):
    (tmp_path / "net.py").write_text("# mine\n")
    result = runner.invoke(
        cli, ["new", "sequential", "Net", "-o", str(tmp_path), "--stdout"]
    )
    assert result.exit_code == 0, result.output
    compile(result.output, "net.py", "exec")
    assert "class Net(keras.Model):" in result.output
    assert (tmp_path / "net.py").read_text() == "# mine\n"


def test_unwritable_destination_is_a_message(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(
        cli, ["new", "sequential", "Net", "-o", str(blocker / "sub")]
    )
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: cannot write") and str(blocker) in line
    assert sorted(os.listdir(tmp_path)) == ["file"]


def test_destination_that_is_a_file_is_refused(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(cli, ["new", "sequential", "Net", "-o", str(blocker)])
    assert result.exit_code == 2  # Click: -o must be a folder
    assert len(result.output.strip().splitlines()) == 1


def test_symlinked_target_leading_outside_is_refused(runner, tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("# elsewhere\n")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "net.py").symlink_to(outside)
    result = runner.invoke(
        cli, ["new", "sequential", "Net", "-o", str(dest), "--force"]
    )
    assert result.exit_code != 0
    assert outside.read_text() == "# elsewhere\n"


def test_help_lists_kinds_and_options(runner):
    result = runner.invoke(cli, ["new", "--help"])
    assert "sequential" in result.output and "conditional" in result.output
    result = runner.invoke(cli, ["new", "sequential", "--help"])
    for option in (
        "--units",
        "--outputs",
        "--activation",
        "--output-activation",
        "--dropout",
        "--train-step",
        "--accumulate",
        "--output",
        "--force",
        "--dry-run",
        "--stdout",
    ):
        assert option in result.output


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_python_dash_m_and_console_script(tmp_path):
    """Both entry points work from outside the checkout, without a traceback on error."""
    scripts = os.path.dirname(sys.executable)
    for command in (
        [sys.executable, "-m", "scaffold"],
        [os.path.join(scripts, "kscaffold")],
    ):
        ok = subprocess.run(
            [*command, "new", "sequential", "Net", "-o", str(tmp_path)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert ok.returncode == 0, ok.stderr
        bad = subprocess.run(
            [*command, "new", "sequential", "Net", "-o", str(tmp_path)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert bad.returncode == 1 and "already exists" in bad.stderr
        assert "Traceback" not in bad.stderr
        (tmp_path / "net.py").unlink()


def test_new_does_not_import_keras_or_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "from scaffold.cli import cli\n"
        f"cli.main(['new', 'sequential', 'Net', '--accumulate', '4', '-o', {str(tmp_path)!r}],"
        " standalone_mode=False)\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "net.py").is_file()


@pytest.mark.parametrize(
    "args",
    [
        ["new", "sequential", "Net", "-o", ""],
        ["new", "sequential", "Net", "--templates", ""],
        ["init", ""],
        ["templates", "check", ""],
        ["templates", "eject", "sequential", ""],
    ],
)
def test_an_empty_path_is_refused_not_taken_for_the_current_folder(
    runner, tmp_path, monkeypatch, args
):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "must not be empty" in result.output
    assert list(tmp_path.iterdir()) == []


def test_kscaffold_alone_prints_the_help(runner):
    result = runner.invoke(cli, [])
    assert result.output.startswith("Usage: ") and "Error" not in result.output


def test_negative_zero_dropout_is_written_as_zero(runner):
    result = runner.invoke(
        cli, ["new", "sequential", "Net", "--dropout", "-0.0", "--stdout"]
    )
    assert "dropout=0.0," in result.output


def test_a_full_disk_on_stdout_is_a_message(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        run = subprocess.run(
            [sys.executable, "-m", "scaffold", "new", "sequential", "Net", "--stdout"],
            cwd=ROOT,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "Error: cannot write output: No space left on device"
    ]


def test_with_test_goes_beside_the_model_or_into_tests(runner, tmp_path):
    result = runner.invoke(
        cli, ["new", "sequential", "Net", "-o", str(tmp_path), "--with-test"]
    )
    assert result.exit_code == 0, result.output
    beside = (tmp_path / "test_net.py").read_text()
    assert "from net import Net\n" in beside and "sys.path" not in beside
    (tmp_path / "tests").mkdir()
    result = runner.invoke(
        cli, ["new", "sequential", "Other", "-o", str(tmp_path), "--with-test"]
    )
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "test_other.py").exists()
    inside = (tmp_path / "tests" / "test_other.py").read_text()
    assert "\nfrom other import Other\n" in inside
    assert (
        "sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))"
        in inside
    )


def test_with_test_keeps_an_existing_test(runner, tmp_path):
    (tmp_path / "test_net.py").write_text("# mine\n")
    result = runner.invoke(
        cli, ["new", "sequential", "Net", "-o", str(tmp_path), "--with-test"]
    )
    assert result.exit_code == 1
    assert "test_net.py" in result.output and "--force" in result.output
    assert not (tmp_path / "net.py").exists()
    assert (tmp_path / "test_net.py").read_text() == "# mine\n"


def test_one_output_defaults_to_a_linear_regression(runner):
    result = runner.invoke(
        cli, ["new", "sequential", "Regressor", "--outputs", "1", "--stdout"]
    )
    assert result.exit_code == 0, result.output
    assert 'output_activation="linear",' in result.output
    assert 'loss="mse"' in result.output
    result = runner.invoke(
        cli,
        [
            "new",
            "sequential",
            "Binary",
            "--outputs",
            "1",
            "--output-activation",
            "sigmoid",
            "--stdout",
        ],
    )
    assert 'output_activation="sigmoid",' in result.output
    assert 'loss="binary_crossentropy"' in result.output
