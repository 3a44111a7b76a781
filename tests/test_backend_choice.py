"""Which backend a file is written for, what a backend-specific file says, and where
`kscaffold check` runs it: on the backend it is written for.

Rendering never imports keras (tests/test_cli.py proves `new` runs without it); the
import-time check of a backend-specific file is run here under TensorFlow.
"""

import json
import re
import shlex
import subprocess
import sys

import pytest

from scaffold.cli import cli
from tests.conftest import ROOT, generate, load_module, tree

ALL_KINDS = ["sequential", "conditional", "recurrent", "gan", "layer"]


def recorded_backend(folder, name):
    data = json.loads((folder / ".kscaffold" / "manifest.json").read_text())
    return {e["path"]: e["backend"] for e in data["files"]}[name]


@pytest.mark.parametrize(
    "env, keras_json, pyproject, option, expected",
    [
        ({}, None, None, None, "tensorflow"),  # nothing set: Keras's own default
        ({}, "jax", None, None, "jax"),  # keras.json under KERAS_HOME
        ({"KERAS_BACKEND": "torch"}, "jax", None, None, "torch"),  # env over file
        ({"KERAS_BACKEND": "torch"}, None, "jax", None, "jax"),  # project over env
        ({"KERAS_BACKEND": "torch"}, None, "jax", "tensorflow", "tensorflow"),
    ],
)
def test_the_backend_follows_option_project_environment_config(
    runner, tmp_path, monkeypatch, env, keras_json, pyproject, option, expected
):
    home = tmp_path / "keras_home"
    home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    if keras_json:
        (home / "keras.json").write_text(json.dumps({"backend": keras_json}))
    out = tmp_path / "out"
    out.mkdir()
    if pyproject:
        (out / "pyproject.toml").write_text(
            f'[tool.kscaffold]\nbackend = "{pyproject}"\n'
        )
    args = ["new", "sequential", "Net", "--train-step", "-o", str(out)]
    result = runner.invoke(cli, args + (["--backend", option] if option else []))
    assert result.exit_code == 0, result.output
    assert recorded_backend(out, "net.py") == expected
    assert (
        f"The code below is for the {expected} backend." in (out / "net.py").read_text()
    )


@pytest.mark.parametrize(
    "args, env, pyproject, message",
    [
        (
            ["--backend", "numpy"],
            {},
            None,
            (
                "--backend 'numpy' is not a backend kscaffold writes for: "
                "expected one of tensorflow, jax, torch"
            ),
        ),
        (
            [],
            {"KERAS_BACKEND": "openvino"},
            None,
            (
                "KERAS_BACKEND 'openvino' is not a backend kscaffold writes for: "
                "expected one of tensorflow, jax, torch (or give --backend)"
            ),
        ),
        (
            [],
            {},
            'backend = "mlx"',
            "[tool.kscaffold] backend 'mlx' is not a backend kscaffold writes for",
        ),
        ([], {}, "backend = 3", "[tool.kscaffold] backend must be a string, not 3"),
        (
            [],
            {"KERAS_HOME": "{home}"},
            None,
            (
                "'{home}/keras.json': backend 'numpy' is not a backend "
                "kscaffold writes for: expected one of tensorflow, jax, torch "
                "(or give --backend)"
            ),
        ),
    ],
)
def test_a_bad_backend_is_one_line_exit_2_nothing_written(
    runner, tmp_path, monkeypatch, args, env, pyproject, message
):
    home = tmp_path.parent / f"{tmp_path.name}-keras"
    home.mkdir()
    (home / "keras.json").write_text('{"backend": "numpy"}')
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    message = message.format(home=home)
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(home=home))
    if pyproject:
        (tmp_path / "pyproject.toml").write_text(f"[tool.kscaffold]\n{pyproject}\n")
    before = tree(tmp_path)
    for command in (
        ["new", "sequential", "Net", "-o", str(tmp_path), *args],
        ["init", str(tmp_path / "proj"), *args],
    ):
        result = runner.invoke(cli, command)
        assert result.exit_code == 2, result.output
        [line] = result.output.strip().splitlines()
        assert message in line, line
        assert tree(tmp_path) == before


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_only_backend_specific_files_import_a_backend(tmp_path, backend, kind):
    """Without a custom step a file is the same on every backend and imports only
    keras; a file with one says its backend and imports that backend's module."""
    plain = generate(tmp_path / "plain", kind, "Net", backend=backend).read_text()
    imports = set(re.findall(r"^(?:import|from) (\w+)", plain, re.MULTILINE))
    if kind == "gan":  # its train step is always backend code
        # The backend's module has the backend's name: tensorflow, jax, torch.
        assert imports == {"keras", "math", backend}, imports
        assert f"for the {backend} backend" in plain
        return
    assert imports == {"keras"}, imports
    neutral = generate(tmp_path / "other", kind, "Net", backend="jax").read_text()
    assert neutral == plain  # backend-neutral: the same text for every backend
    if kind == "layer":
        return
    step = generate(
        tmp_path / "step", kind, "Net", backend=backend, train_step=True
    ).read_text()
    found = set(re.findall(r"^(?:import|from) (\w+)", step, re.MULTILINE))
    assert found == {"keras", backend}, found
    assert f"The code below is for the {backend} backend." in step


@pytest.mark.parametrize("kind", ["sequential", "recurrent", "gan"])
def test_on_another_backend_the_import_stops_with_the_command_that_rewrites_it(
    tmp_path, kind
):
    """The suite runs TensorFlow: a JAX file stops at import, before `import jax`,
    with one line naming both backends and a command that writes the same file again
    (run here for jax, it must give the very same text)."""
    values = {} if kind == "gan" else {"accumulate": 3, "units": "8,4"}
    path = generate(tmp_path / "jax", kind, "Some", backend="jax", **values)
    with pytest.raises(ImportError) as raised:
        load_module(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(
        "some.py is written for the jax backend, not tensorflow; "
        "regenerate it for that backend: kscaffold new "
    ), message
    # Our own ImportError, raised before `import jax` (not a ModuleNotFoundError).
    assert type(raised.value) is ImportError
    command = shlex.split(message.split("regenerate it for that backend: ")[1])
    assert command[-2:] == ["--backend", "tensorflow"]
    assert command[:4] == ["kscaffold", "new", kind, "Some"]
    again = tmp_path / "again"
    again.mkdir()
    subprocess.run(
        [sys.executable, "-m", "scaffold", *command[1:-1], "jax", "-o", str(again)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert (again / "some.py").read_text() == path.read_text()
