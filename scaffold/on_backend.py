"""Run model checks on the Keras backend each file is written for.

Keras picks its backend once per process, when it is first imported. A file written
for the backend this process has (or will have: keras not imported yet) is checked
here; files for another backend are checked in one child process per backend, with
``KERAS_BACKEND`` set, and their outcomes come back as JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from scaffold.kinds import InputSpec

# What _common/backend_guard.py.j2 writes: the backend a file's own code is for.
_GUARD = re.compile(
    r"^if keras\.backend\.backend\(\) != [\"'](\w+)[\"']:", re.MULTILINE
)


def file_backend(path: Path, manifests: dict) -> str | None:
    """The backend ``path`` is written for: its manifest record, else its backend
    check; None for a file that runs on any backend (and unknown files).
    ``manifests`` keeps the manifests read, by root, across calls."""
    from scaffold.errors import ScaffoldError
    from scaffold.manifest import Manifest, find_root, relative_to

    root = find_root(path.parent)
    if root is not None:
        if root not in manifests:
            try:
                manifests[root] = Manifest.load(root)
            except (ScaffoldError, ValueError):
                manifests[root] = None
        manifest = manifests[root]
        try:
            entry = manifest.entries.get(relative_to(root, path)) if manifest else None
        except ValueError:
            entry = None
        if entry is not None:
            return entry.backend
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = _GUARD.search(text)
    return found.group(1) if found else None


def process_backend() -> str:
    """The backend of this process: keras's if imported, else the one it will pick."""
    keras = sys.modules.get("keras")
    if keras is not None:
        return keras.backend.backend()
    from scaffold.backend import default_backend

    return default_backend()


Job = tuple[Path, bool, InputSpec]  # a file, whether models only, how to feed them


def _spec(value: list) -> InputSpec:
    """An InputSpec back from JSON (its shape a list there)."""
    return InputSpec(*(tuple(v) if isinstance(v, list) else v for v in value))


def _child(backend: str, jobs: Sequence[Job]) -> list:
    """Check ``jobs`` in a child process on ``backend``."""
    from scaffold.verify import Outcome

    package_parent = str(Path(__file__).resolve().parent.parent)
    env = {"TF_CPP_MIN_LOG_LEVEL": "2", **os.environ, "KERAS_BACKEND": backend}
    env["PYTHONPATH"] = os.pathsep.join(
        [package_parent, *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    with tempfile.TemporaryDirectory() as scratch:
        answer = Path(scratch) / "outcomes.json"
        request = {
            "jobs": [(str(path), only, list(spec)) for path, only, spec in jobs],
            "answer": str(answer),
        }
        done = subprocess.run(
            [sys.executable, "-m", "scaffold.on_backend", json.dumps(request)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        try:
            rows = json.loads(answer.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            lines = (done.stderr or done.stdout).strip().splitlines()
            why = lines[-1] if lines else f"exit status {done.returncode}"
            return [
                [
                    Outcome(
                        "-",
                        "import",
                        f"{backend} process failed: {why}",
                        str(path),
                        backend,
                    )
                ]
                for path, _, _ in jobs
            ]
    return [[Outcome(*row) for row in job] for job in rows]


def check_each(jobs: Sequence[Job], backend: str | None = None) -> list[list]:
    """Check each ``(path, models_only, spec)`` on its file's backend (``backend``
    when given: the files were just written for it): a list of outcomes per job, in
    the order of ``jobs``, from one child process per backend other than this
    process's."""
    from scaffold.verify import check_file

    here = process_backend()
    groups: dict[str, list[int]] = {}
    manifests: dict = {}
    for index, (path, _, _) in enumerate(jobs):
        wanted = backend or file_backend(path, manifests) or here
        groups.setdefault(wanted, []).append(index)
    results: dict[int, list] = {}
    for wanted, indices in groups.items():
        if wanted == here:
            if "keras" not in sys.modules:
                os.environ["KERAS_BACKEND"] = wanted
                os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            for index in indices:
                path, models_only, spec = jobs[index]
                results[index] = check_file(path, spec, models_only=models_only)
        else:
            outcomes = _child(wanted, [jobs[index] for index in indices])
            results.update(zip(indices, outcomes))
    return [results[index] for index in range(len(jobs))]


def main(argv: Sequence[str]) -> None:
    """The child: check the request's files here, write the outcomes as JSON, a list
    of rows per job."""
    from scaffold.verify import check_file

    request = json.loads(argv[0])
    rows = [
        [
            dataclasses.astuple(o)
            for o in check_file(Path(path), _spec(spec), models_only=models_only)
        ]
        for path, models_only, spec in request["jobs"]
    ]
    Path(request["answer"]).write_text(json.dumps(rows), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
