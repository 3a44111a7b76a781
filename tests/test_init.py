"""`kscaffold init`: the project it creates, its refusals, and the proof that the project
trains, passes its own tests, and scales out with tf.distribute."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from scaffold.cli import cli
from scaffold.manifest import base_path
from tests.conftest import project_env, tree
from tests.conftest import run_ok as run

MODELS = [
    "--model", "sequential:Regressor", "--model", "conditional:Gate",
    "--set", "outputs=1", "--set", "output_activation=linear",
]  # fmt: skip


def init(runner, path: Path, *args: str):
    return runner.invoke(cli, ["init", str(path), *args])


def test_init_creates_the_project(runner, tmp_path):
    result = init(runner, tmp_path / "demo-app", *MODELS)
    assert result.exit_code == 0, result.output
    project = [
        ".gitignore", "README.md", "demo_app/__init__.py", "demo_app/data.py",
        "demo_app/models/__init__.py", "demo_app/models/gate.py",
        "demo_app/models/regressor.py", "demo_app/train.py", "pyproject.toml",
        "tests/test_gate.py", "tests/test_regressor.py", "tests/test_train.py",
    ]  # fmt: skip
    # Each file is recorded, with its exact text (see test_update.py).
    records = [".kscaffold/manifest.json"] + [base_path(p) for p in project]
    assert sorted(tree(tmp_path / "demo-app")) == sorted(project + records)
    pyproject = (tmp_path / "demo-app" / "pyproject.toml").read_text()
    assert 'name = "demo_app"' in pyproject and "[tool.kscaffold]" in pyproject
    regressor = (
        tmp_path / "demo-app" / "demo_app" / "models" / "regressor.py"
    ).read_text()
    assert "outputs=1," in regressor and 'output_activation="linear"' in regressor
    # The model is exactly what `kscaffold new` writes.
    same = runner.invoke(
        cli,
        [
            "new",
            "sequential",
            "Regressor",
            "--outputs",
            "1",
            "--output-activation",
            "linear",
            "--stdout",
        ],
    )
    assert regressor == same.output
    assert list(tmp_path.iterdir()) == [tmp_path / "demo-app"]  # no staging left behind


def test_model_options_of_new_reach_every_model_that_has_them(runner, tmp_path):
    result = init(
        runner,
        tmp_path / "demo",
        "--model",
        "sequential:Reg",
        "--model",
        "conditional:Gate",
        "--units",
        "16,8",
        "--accumulate",
        "2",
        "--train-step",
    )
    assert result.exit_code == 0, result.output
    for module in ("reg", "gate"):
        source = (tmp_path / "demo" / "demo" / "models" / f"{module}.py").read_text()
        assert "units=(16, 8)," in source and "accumulate_steps=2," in source
    help_text = runner.invoke(cli, ["init", "--help"]).output
    for option in ("--units", "--outputs", "--accumulate", "--train-step", "--set"):
        assert option in help_text


def test_default_model_and_name(runner, tmp_path):
    result = init(runner, tmp_path / "proj", "--name", "mypkg")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "proj" / "mypkg" / "models" / "classifier.py").is_file()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--name", "my-pkg"], "'my-pkg'"),
        (["--name", "keras"], "'keras'"),
        (["--model", "sequential"], "'sequential'"),
        (["--model", "nope:Net"], "'nope'"),
        (["--model", "sequential:class"], "'class'"),
        (["--model", "sequential:Net", "--model", "conditional:NET"], "'net'"),
        (["--set", "nope=1"], "'nope'"),
        (["--set", "units=0"], "'0'"),
        (["--units", "0"], "'0'"),
        (["--accumulate", "1"], "'1'"),
        (["--units", "4", "--set", "units=5"], "'units'"),
    ],
)
def test_bad_names_and_options_exit_2_and_write_nothing(runner, tmp_path, args, named):
    result = init(runner, tmp_path / "demo", *args)
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert named in line
    assert list(tmp_path.iterdir()) == []


def test_a_bad_path_derived_name_is_refused(runner, tmp_path):
    result = init(runner, tmp_path / "2fast")
    assert result.exit_code == 2 and "'2fast'" in result.output
    assert list(tmp_path.iterdir()) == []


def test_non_empty_folder_is_refused_unless_force(runner, tmp_path):
    target = tmp_path / "demo"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = init(runner, target)
    assert result.exit_code == 1 and "not empty" in result.output
    assert tree(target) == {"notes.txt": b"mine"}
    result = init(runner, target, "--force")
    assert result.exit_code == 0, result.output
    assert (target / "notes.txt").read_text() == "mine"
    assert (target / "demo" / "train.py").is_file()


def test_force_names_what_it_replaces_and_checks_everything_first(runner, tmp_path):
    target = tmp_path / "demo"
    (target / "README.md").mkdir(parents=True)  # a folder where the project has a file
    result = init(runner, target, "--force")
    assert result.exit_code == 1 and "README.md" in result.output
    assert tree(target) == {}
    (target / "README.md").rmdir()
    (target / "README.md").write_text("my notes")
    result = init(runner, target, "--force")
    assert result.exit_code == 0, result.output
    assert f"overwrote {target / 'README.md'}" in result.output


def test_a_model_whose_files_collide_with_the_project_is_refused(runner, tmp_path):
    result = init(runner, tmp_path / "demo", "--model", "sequential:Train")
    assert result.exit_code == 2 and "'tests/test_train.py'" in result.output
    assert list(tmp_path.iterdir()) == []


def test_project_folder_follows_the_umask(runner, tmp_path):
    assert init(runner, tmp_path / "demo").exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "demo").stat().st_mode & 0o777 == 0o777 & ~mask


def test_a_failure_while_rendering_leaves_nothing(runner, tmp_path):
    broken = tmp_path / "team"
    (broken / "_project").mkdir(parents=True)
    (broken / "_project" / "train.py.j2").write_text("{{ 1 / 0 }}\n")
    result = init(runner, tmp_path / "demo", "--templates", str(broken))
    assert result.exit_code == 1, result.output
    assert "train.py.j2:1" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team"]


# --- the project works -----------------------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """`kscaffold init demo`, then `kscaffold new` run inside it (the console script)."""
    from click.testing import CliRunner

    path = tmp_path_factory.mktemp("init") / "demo"
    result = CliRunner().invoke(cli, ["init", str(path), *MODELS])
    assert result.exit_code == 0, result.output
    kscaffold = Path(sys.executable).parent / "kscaffold"
    run(
        str(kscaffold),
        "new",
        "sequential",
        "Deep",
        "--units",
        "16,8",
        "--outputs",
        "1",
        "--output-activation",
        "linear",
        "--accumulate",
        "2",
        cwd=path,
    )
    return path


# Runs of train.py (`argv` lists), then the trainable weights of each saved model.keras,
# then, if asked, the project's tests (pytest.main), all in one process: TensorFlow
# starts once. A mirrored run over split CPUs goes first (the split must happen before
# TensorFlow starts); the runs after it that name no strategy train on one device (one
# replica) as in a process of their own.
TRAIN_AND_LOAD = """
import json, sys
import numpy as np
runs, paths, pytest_args = json.loads(sys.argv[1])
from demo import train
for argv in runs:
    train.main(argv)
import keras
print("LOADED", json.dumps([[np.asarray(w).tolist() for w in
    keras.saving.load_model(p).trainable_weights] for p in paths]), flush=True)
if pytest_args is not None:
    import pytest
    print("PYTEST", int(pytest.main(pytest_args)), flush=True)
"""


def train_and_load_command(
    runs: list[list[str]], *outputs: Path, pytest_args: list[str] | None = None
) -> list[str]:
    paths = [str(output / "model.keras") for output in outputs]
    return [
        sys.executable,
        "-c",
        TRAIN_AND_LOAD,
        json.dumps([runs, paths, pytest_args]),
    ]


def trained_and_loaded(stdout: str, runs: list[list[str]]):
    """From the output of ``train_and_load_command``: the summary train.py printed for
    each run, the trainable weights of each model loaded, and what pytest printed."""
    import numpy as np

    before, loaded, tests = re.split(r"^LOADED (.*)$", stdout, flags=re.MULTILINE)
    summaries = before.strip().splitlines()
    assert len(summaries) == len(runs), stdout
    return (
        [json.loads(summary) for summary in summaries],
        [[np.asarray(w) for w in weights] for weights in json.loads(loaded)],
        tests,
    )


def train_and_load(project: Path, runs: list[list[str]], *outputs: Path, **pytest):
    """Run train.py with each of ``runs``, then load each ``output/model.keras``, then
    run pytest with ``pytest_args`` if given, all in one process (see TRAIN_AND_LOAD).
    """
    command = train_and_load_command(runs, *outputs, **pytest)
    out = run(*command, cwd=project, env=project_env(project))
    return trained_and_loaded(out.stdout, runs)


def train_args(model: str, output: Path, *extra: str) -> list[str]:
    return [
        "--model", model, "--epochs", "2",
        "--samples", "256", "--batch-size", "32", "--validation-split", "0.25",
        "--no-shuffle", "--verbose", "0", "--output", str(output), *extra,
    ]  # fmt: skip


def max_diff(one, other) -> float:
    import numpy as np

    return max(float(np.abs(a - b).max()) for a, b in zip(one, other, strict=True))


MIRRORED = ["--strategy", "mirrored", "--cpu-devices", "2"]


def mirrored_vs_one_device(model: str, weights) -> None:
    diff = max_diff(*weights)
    print(f"MEASURED mirrored vs one device, {model}: {diff:.3g}")
    # Measured 7.5e-9 to 4.5e-8 (float32 sums in another order); 1e-6 leaves room.
    assert diff <= 1e-6


@pytest.mark.slow
def test_new_inside_the_project_registers_the_model_and_its_test_passes(
    project, tmp_path
):
    """The model `kscaffold new` added inside the project (Deep: sequential with
    --accumulate 2) trains with train.py mirrored over 2 CPUs as on one device; then
    its test and train.py's smoke test, which finds it in the registry, pass; all in
    one process. TensorFlow refuses a second MirroredStrategy's collectives in a
    process (its instance keys start over: "Shape mismatch in the collective instance
    101"), so each mirrored check has a process of its own, shared with other work."""
    pytest.importorskip("keras")
    assert (project / "demo" / "models" / "deep.py").is_file()
    assert (project / "tests" / "test_deep.py").is_file()
    two, one = tmp_path / "two", tmp_path / "one"
    runs = [train_args("Deep", two, *MIRRORED), train_args("Deep", one)]
    pytest_args = ["-q", "-p", "no:cacheprovider", "-rA"]  # -rA: a line per test
    pytest_args += ["tests/test_deep.py", "tests/test_train.py"]
    summaries, weights, tests = train_and_load(
        project, runs, two, one, pytest_args=pytest_args
    )
    assert [s["replicas"] for s in summaries] == [2, 1]
    mirrored_vs_one_device("Deep", weights)
    # test_deep.py: 2 tests; test_train.py: one per model the registry lists.
    assert "5 passed" in tests and tests.rstrip().endswith("PYTEST 0"), tests
    trained = re.findall(
        r"PASSED tests/test_train.py::test_train_writes_a_model_that_loads\[(\w+)\]",
        tests,
    )
    assert trained == ["Deep", "Gate", "Regressor"], tests


@pytest.mark.slow
def test_mirrored_matches_one_device_and_train_reads_npz_and_csv(project, tmp_path):
    """Gate (conditional) mirrored over 2 CPUs and on one device; then data read from
    files, in the same process."""
    pytest.importorskip("keras")
    import numpy as np

    two, one = tmp_path / "two", tmp_path / "one"
    runs = [train_args("Gate", two, *MIRRORED), train_args("Gate", one)]
    outputs = [two, one]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 3)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5], dtype="float32")
    condition = (rng.random(128) < 0.5).astype("float32")
    np.savez(tmp_path / "data.npz", x=x, y=y, condition=condition)
    header = "a,b,c,gate,target"
    rows = np.column_stack([x, condition, y])
    np.savetxt(tmp_path / "data.csv", rows, delimiter=",", header=header, comments="")
    for model, data, extra in [
        ("Regressor", "data.npz", []),
        ("Gate", "data.npz", []),
        ("Regressor", "data.csv", ["--target", "target", "--condition", "gate"]),
        ("Gate", "data.csv", ["--target", "target", "--condition", "gate"]),
    ]:
        outputs.append(tmp_path / f"{model}-{data}")
        runs.append(
            train_args(model, outputs[-1], "--data", str(tmp_path / data), *extra)
        )
    summaries, weights, _ = train_and_load(project, runs, *outputs)
    assert [s["replicas"] for s in summaries] == [2, 1, 1, 1, 1, 1]
    mirrored_vs_one_device("Gate", weights[:2])
    # Each model was built for the file's 3 features (the first kernel's input size).
    assert [w[0].shape[0] for w in weights[2:]] == [3, 3, 3, 3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_workers_train_together_to_identical_weights(project, tmp_path):
    """Each worker loads the model it saved; worker 0 then trains the same model on one
    device with the same global batch, as the reference (in its own process, after
    the pair has finished: one process fewer than a reference of its own)."""
    pytest.importorskip("keras")
    import numpy as np

    ports = [free_port(), free_port()]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    together = train_args("Regressor", tmp_path / "run", "--strategy", "multiworker")
    alone = train_args("Regressor", tmp_path / "one")
    plans = [
        ([together, alone], [tmp_path / "run", tmp_path / "one"]),
        ([together], [tmp_path / "run" / "worker-1"]),
    ]
    workers = []
    for index, (runs, outputs) in enumerate(plans):
        env = project_env(project)
        env["TF_CONFIG"] = json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}
        )
        workers.append(
            subprocess.Popen(
                train_and_load_command(runs, *outputs),
                cwd=project,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [w.communicate(timeout=600) for w in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
    [pair, single], (chief, one), _ = trained_and_loaded(outputs[0][0], plans[0][0])
    [pair_again], [other], _ = trained_and_loaded(outputs[1][0], plans[1][0])
    assert [pair["replicas"], pair_again["replicas"], single["replicas"]] == [2, 2, 1]
    assert all(np.array_equal(a, b) for a, b in zip(chief, other, strict=True))
    # ...and the pair took the same steps as one device with the same global batch.
    diff = max_diff(one, chief)
    print(f"MEASURED two workers vs one device: {diff:.3g}")
    assert diff <= 1e-6


@pytest.mark.slow
def test_fresh_venv_installs_the_project_and_its_tests_pass(tmp_path):
    """As a user would: init, a new venv, `pip install -e .`, `pytest`.

    The new venv sees this one's packages through a .pth file, so pip finds Keras,
    TensorFlow, TensorBoard and pytest installed, checks them against the project's
    requirements and installs the project alone (a requirement they did not meet
    would be fetched and installed, and the check below would fail). Not proven here:
    that a package index serves those requirements (pip's job, not the project's).
    Installing them took ~50 s of CPU; they are what the suite itself runs on.
    """
    kscaffold = Path(sys.executable).parent / "kscaffold"
    run(str(kscaffold), "init", "demo", cwd=tmp_path)
    project = tmp_path / "demo"
    venv = tmp_path / "venv"
    # No pip of its own (ensurepip costs ~7 s of CPU): this venv's pip runs in it.
    run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    site = Path(sysconfig.get_path("purelib", vars={"base": venv, "platbase": venv}))
    ours = dict.fromkeys(sysconfig.get_path(key) for key in ("purelib", "platlib"))
    (site / "_outer.pth").write_text("".join(f"{path}\n" for path in ours))
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    python = str(venv / "bin" / "python")
    run(
        python,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-compile",
        "-e",
        ".",
        cwd=project,
        env=env,
    )
    # Every requirement was met: the project is all that pip put in the venv.
    added = {p.name for p in site.iterdir()} - {"_outer.pth"}
    assert added and all("demo" in name for name in added), sorted(added)
    tests = run(
        python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project, env=env
    )
    # test_classifier.py: 2 tests; test_train.py: 1 per model.
    assert "3 passed" in tests.stdout, tests.stdout
    # The install serves the package from any folder (not only the project's own).
    where = run(python, "-c", "import demo; print(demo.__file__)", cwd=venv, env=env)
    assert where.stdout.strip() == str(project / "demo" / "__init__.py")


# --- every family of model: supervised, recurrent (stateful or not), GAN ----------------

FAMILIES = [
    "--model", "recurrent:Forecaster", "--model", "gan:Gan",
    "--model", "sequential:Classifier", "--stateful",
]  # fmt: skip


def test_a_project_of_every_family_is_black_and_ruff_clean(runner, tmp_path):
    import black

    result = init(runner, tmp_path / "mixed", *FAMILIES)
    assert result.exit_code == 0, result.output
    models = tmp_path / "mixed" / "mixed" / "models"
    # --stateful reaches the kind that has it; the others do not take it.
    assert "stateful=True" in (models / "forecaster.py").read_text()
    sources = sorted((tmp_path / "mixed").rglob("*.py"))
    for path in sources:
        source = path.read_text()
        assert black.format_str(source, mode=black.Mode()) == source, path
    ruff = Path(sys.executable).parent / "ruff"
    # From the project's folder, as its user runs it: ruff sees `mixed` as first-party.
    lint = subprocess.run(
        [str(ruff), "check", "--isolated", "--no-cache", "."],
        cwd=tmp_path / "mixed",
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A stateful Forecaster, a GAN and a Classifier from `kscaffold init`, and a
    stateless recurrent model added with `kscaffold new` inside the project."""
    from click.testing import CliRunner

    path = tmp_path_factory.mktemp("families") / "mixed"
    result = CliRunner().invoke(cli, ["init", str(path), *FAMILIES])
    assert result.exit_code == 0, result.output
    kscaffold = Path(sys.executable).parent / "kscaffold"
    run(str(kscaffold), "new", "recurrent", "Window", cwd=path)
    return path


# Each run of train.py below refuses, or trains on an .npz file; then the project's own
# tests run (pytest.main). All in one process (TensorFlow starts once), the mirrored run
# first (it splits the CPU before TF starts).
RUNS = """
import json, sys
import pytest
from mixed import train
runs, pytest_args = json.loads(sys.argv[1])
for argv in runs:
    try:
        model = train.main(argv + ["--epochs", "1", "--verbose", "0"])
        print("TRAINED", type(model).__name__, flush=True)
    except SystemExit as exit:
        print("EXIT", exit.code, flush=True)
print("PYTEST", int(pytest.main(pytest_args)), flush=True)
"""
# The project's tests that train a model and round-trip it are left out: each test
# file is, but for its import line, the one `kscaffold new --with-test` writes for the
# same kind and options, and test_with_test.py runs those (Recurrent1 is the stateful
# Forecaster, Recurrent0 the Window, Gan0 and Sequential0). Every test file is still
# imported (its models from the package), and test_train.py trains every family.
SLOW_MODEL_TESTS = "not round_trips and not fit_resets_state"


@pytest.mark.slow
def test_every_family_trains_and_the_projects_tests_pass(mixed, tmp_path):
    """train.py feeds an .npz file to each family and refuses what does not fit; then
    the project's tests pass (test_train.py trains every model it registers)."""
    pytest.importorskip("keras")
    import numpy as np

    rng = np.random.default_rng(0)
    # Forecaster and Window: 1 feature, horizon 3; Gan: data_shape (64,), tanh output.
    np.savez(
        tmp_path / "windows.npz",
        x=rng.normal(size=(100, 12, 1)).astype("float32"),
        y=rng.normal(size=(100, 3, 1)).astype("float32"),
    )
    np.savez(tmp_path / "real.npz", x=rng.uniform(-1, 1, size=(100, 64)))
    (tmp_path / "table.csv").write_text("a,b,y\n1,2,3\n4,5,6\n")
    out = ["--output", str(tmp_path / "out")]
    runs = [
        (["--model", "Forecaster", "--strategy", "mirrored", "--cpu-devices", "2"],
         "EXIT 2", "is stateful: each of the 2 replicas"),
        (["--model", "Forecaster", "--batch-size", "16"],
         "EXIT 2", "fixed batch size of 32"),
        (["--model", "Gan", "--data", str(tmp_path / "table.csv")],
         "EXIT 2", "a gan model reads an .npz file"),
        (["--model", "Window", "--data", str(tmp_path / "table.csv")],
         "EXIT 2", "a recurrent model reads an .npz file"),
        (["--model", "Gan", "--data", str(tmp_path / "windows.npz")],
         "EXIT 2", "this model needs (n, 64)"),
        (["--model", "Gan", "--learning-rate", "0.01"], "EXIT 2", "is a GAN; its compile() sets both"),
        # 100 windows: 3 whole batches of 32, the last one for validation.
        (["--model", "Forecaster", "--data", str(tmp_path / "windows.npz")],
         "TRAINED Forecaster", None),
        (["--model", "Window", "--data", str(tmp_path / "windows.npz")],
         "TRAINED Window", None),
        (["--model", "Gan", "--data", str(tmp_path / "real.npz")], "TRAINED Gan", None),
    ]  # fmt: skip
    pytest_args = ["-q", "-p", "no:cacheprovider", "-k", SLOW_MODEL_TESTS, "tests"]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            RUNS,
            json.dumps([[argv + out for argv, _, _ in runs], pytest_args]),
        ],
        cwd=mixed,
        env=project_env(mixed),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = [
        line
        for line in done.stdout.splitlines()
        if line.startswith(("EXIT", "TRAINED", "PYTEST"))
    ]
    expected = [outcome for _, outcome, _ in runs] + ["PYTEST 0"]
    assert outcomes == expected, done.stdout[-3000:] + done.stderr[-3000:]
    for _, _, message in runs:
        assert message is None or message in done.stderr, message
    # test_train.py: 4 models; test_forecaster.py: 4 tests (stateful), test_window.py
    # 2, test_gan.py 4, test_classifier.py 2; of these, 5 are left out (above).
    assert "11 passed, 5 deselected" in done.stdout, done.stdout


# --- projects for each backend ----------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "needs"),
    [
        ("tensorflow", ["keras>=3.15", "tensorflow>=2.21", "tensorboard", "pytest>=8"]),
        ("jax", ["keras>=3.15", "jax>=0.10", "pytest>=8"]),
        ("torch", ["keras>=3.15", "torch>=2.13", "pytest>=8"]),
    ],
    ids=["tensorflow", "jax", "torch"],
)
def test_the_project_follows_its_backend(runner, tmp_path, backend, needs):
    import tomllib

    import black

    result = init(runner, tmp_path / "demo", "--backend", backend, *FAMILIES)
    assert result.exit_code == 0, result.output
    project = tmp_path / "demo"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["dependencies"] == needs
    assert pyproject["tool"]["kscaffold"]["backend"] == backend
    # The package, and each test before it imports keras, make the backend Keras's
    # default.
    pinned = f'os.environ.setdefault("KERAS_BACKEND", "{backend}")'
    for path in ("demo/__init__.py", "tests/test_train.py", "tests/test_forecaster.py"):
        assert pinned in (project / path).read_text(), path
    # Only TensorFlow's train.py imports tensorflow (its strategies and TensorBoard).
    train = (project / "demo" / "train.py").read_text()
    assert ("import tensorflow" in train) == (backend == "tensorflow")
    assert ("keras.distribution.DataParallel(" in train) == (backend == "jax")
    for path in sorted(project.rglob("*.py")):
        source = path.read_text()
        assert black.format_str(source, mode=black.Mode()) == source, path
    lint = subprocess.run(
        [
            str(Path(sys.executable).parent / "ruff"),
            "check",
            "--isolated",
            "--no-cache",
            ".",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


# Runs a project's own tests, then train.py with the arguments given (which must
# refuse), in one process where TensorFlow cannot be imported and KERAS_BACKEND is
# unset: the project makes its backend Keras's default itself.
TESTS_THEN_TRAIN = """
import sys
assert sys.modules["tensorflow"] is None  # tests/without_tensorflow is in effect
import pytest
# test_train.py on its own first: it imports keras before any model's test does.
quiet = ["-q", "-p", "no:cacheprovider"]
passed = pytest.main([*quiet, "tests/test_train.py"]) == 0
passed &= pytest.main([*quiet, "tests", "--ignore=tests/test_train.py"]) == 0
from demo import train
try:
    train.main(sys.argv[1:])
except SystemExit as exit:
    print("EXIT", exit.code)
sys.exit(0 if passed else 1)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("backend", "refused", "reason"),
    [
        # Checked before JAX starts: no process waits for a coordinator.
        (
            "jax",
            ["--strategy", "multihost"],
            "--strategy multihost needs --coordinator",
        ),
        ("torch", ["--strategy", "data-parallel"], "has no keras.distribution support"),
    ],
    ids=["jax", "torch"],
)
def test_a_project_for_another_backend_passes_its_tests_without_tensorflow(
    runner, tmp_path, backend, refused, reason
):
    project = tmp_path / "demo"
    # Its Classifier has its own train_step, in the backend's code: trained by
    # train.py and by its generated test.
    args = ["--backend", backend, "--train-step"]
    assert init(runner, project, *args).exit_code == 0
    classifier = (project / "demo" / "models" / "classifier.py").read_text()
    assert f"written for the {backend} backend" in classifier
    env = project_env(project, without_tensorflow=True)
    done = subprocess.run(
        [sys.executable, "-c", TESTS_THEN_TRAIN, *refused],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # test_train.py: 1 per model; test_classifier.py: 2 tests.
    assert "1 passed" in done.stdout and "2 passed" in done.stdout, done.stdout
    assert done.stdout.strip().splitlines()[-1] == "EXIT 2", done.stdout[-3000:]
    [line] = [line for line in done.stderr.splitlines() if "error:" in line]
    assert reason in line, done.stderr[-3000:]
