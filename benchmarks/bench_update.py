"""What `kscaffold update` costs beside `kscaffold new`, file for file.

50 sequential models are made with `kscaffold new` (one process each), then brought
up to date with `kscaffold update FILE` (one process each) twice: when nothing
changed (each file is re-rendered and found up to date), and after a template they
use changed (each file is re-rendered, merged and written with its record). A
single `kscaffold update --all` over the 50 is timed too. The goal: update at most
2x new. All in one run, on the same files, so the ratios compare like with like.

Usage: python benchmarks/bench_update.py [--files N] [--rounds N]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KSCAFFOLD = [sys.executable, "-m", "scaffold"]
PARTIAL = Path("sequential") / "_common" / "dense_model.py.j2"
COMMENT = "# Build every sublayer so summary() and saving see real weights."


ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def timed(*args: str, cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [*KSCAFFOLD, *args], cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def one_round(work: Path, files: int) -> dict[str, list[float]]:
    """Time every case once over ``files`` models in a fresh folder."""
    team, out = work / "team", work / "out"
    subprocess.run(
        [*KSCAFFOLD, "templates", "eject", "sequential", str(team)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    names = [f"Model{i}" for i in range(files)]
    paths = [out / f"model{i}.py" for i in range(files)]
    times: dict[str, list[float]] = {}
    times["new (one process per file)"] = [
        timed(
            "new", "sequential", n, "-o", str(out), "--templates", str(team), cwd=ROOT
        )
        for n in names
    ]
    times["update, nothing changed"] = [
        timed("update", str(p), cwd=ROOT) for p in paths
    ]
    partial = team / PARTIAL
    text = partial.read_text(encoding="utf-8")
    partial.write_text(text.replace(COMMENT, COMMENT + " (team)"), encoding="utf-8")
    times["update, a template changed"] = [
        timed("update", str(p), cwd=ROOT) for p in paths
    ]
    for p in paths:
        assert "(team)" in p.read_text(encoding="utf-8"), p
    partial.write_text(text.replace(COMMENT, COMMENT + " (again)"), encoding="utf-8")
    times["update --all, a template changed (one process)"] = [
        timed("update", "--all", cwd=out) / files
    ]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "scaffold", quiet=1)
    samples: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as work:
            for case, values in one_round(Path(work), args.files).items():
                samples.setdefault(case, []).extend(values)
    base = statistics.median(samples["new (one process per file)"])
    print(
        f"files: {args.files}, rounds: {args.rounds}, python "
        f"{sys.version.split()[0]}, cpus {os.cpu_count()}"
    )
    print(f"{'case':50} {'median s/file':>13} {'/new':>6}")
    for case, values in samples.items():
        median = statistics.median(values)
        print(f"{case:50} {median:13.3f} {median / base:6.2f}")


if __name__ == "__main__":
    main()
