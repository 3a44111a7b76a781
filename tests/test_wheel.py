"""The built wheel, installed into a fresh venv, works from outside the checkout."""

from __future__ import annotations

import sys
import zipfile

import pytest

from tests.conftest import ROOT, generate, load_module
from tests.conftest import run_ok as run


@pytest.mark.slow
def test_wheel_installs_and_generates_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT))
    [wheel] = dist.glob("kscaffold-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "scaffold/templates/sequential/kind.toml" in names
    assert "scaffold/templates/_common/dense_model.py.j2" in names

    venv = tmp_path / "venv"
    # No pip of its own (ensurepip costs ~7 s of CPU): this venv's pip installs into it.
    run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    python = ["--python", str(venv / "bin" / "python")]
    run(
        sys.executable,
        "-m",
        "pip",
        *python,
        "install",
        "-q",
        "--no-compile",
        str(wheel),
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    kscaffold = str(venv / "bin" / "kscaffold")
    version = run(kscaffold, "--version", cwd=work)
    assert "0.1.0" in version.stdout
    run(kscaffold, "new", "conditional", "MyModel", cwd=work)
    run(
        kscaffold,
        "new",
        "sequential",
        "Regressor",
        "--outputs",
        "1",
        "--output-activation",
        "linear",
        "--accumulate",
        "4",
        "-o",
        "models/",
        cwd=work,
    )
    run(
        str(venv / "bin" / "python"),
        "-m",
        "scaffold",
        "new",
        "sequential",
        "Net",
        cwd=work,
    )

    # The installed tool writes exactly what the checkout writes.
    for produced, kind, name, values in [
        (work / "my_model.py", "conditional", "MyModel", {}),
        (
            work / "models" / "regressor.py",
            "sequential",
            "Regressor",
            {"outputs": 1, "output_activation": "linear", "accumulate": 4},
        ),
    ]:
        expected = generate(tmp_path / "checkout" / kind, kind, name, **values)
        assert produced.read_text() == expected.read_text()

    # ...and what it wrote runs (on this interpreter, which has TensorFlow).
    pytest.importorskip("keras")
    model = load_module(work / "my_model.py").MyModel()
    model.build((None, 4))
    assert model.count_params() > 0
