"""How close `kscaffold new` stays to the floor cost of its own dependencies.

Prints the median wall time of `kscaffold new` (a fresh process each run) beside
two floors, and the ratio of every case to each:

- floor: `python -c "import black, click, jinja2"` plus `black.format_str` of one
  line (the bare cost of importing the dependencies);
- real floor: the same imports, then `black.format_str` of the very file that
  `kscaffold new sequential` writes (rendered once up front with the package and
  read from a temporary file), i.e. the least work that command could do.

All are measured in the same run, alternating, so machine noise hits them alike.
Usage: python benchmarks/bench_new.py [--runs N]
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

FLOOR = (
    "import black, click, jinja2\n" "black.format_str('x = 1\\n', mode=black.Mode())\n"
)
# argv[1]: the file `kscaffold new sequential` writes, rendered up front.
REAL_FLOOR = (
    "import sys, black, click, jinja2\n"
    "text = open(sys.argv[1], encoding='utf-8').read()\n"
    "black.format_str(text, mode=black.Mode())\n"
)
FLOOR_NAME = "floor: import black, click, jinja2 + format_str"
REAL_FLOOR_NAME = "real floor: imports + format_str(sequential file)"


def sequential_file(root: str, out: str) -> Path:
    """Render `kscaffold new sequential Net -o out` in memory; save its text beside."""
    sys.path.insert(0, root)
    from scaffold.generate import new

    [target] = new("sequential", "Net", {}, destination=Path(out), dry_run=True)
    saved = Path(out) / f"_floor_{target.path.name}"
    saved.write_text(target.text, encoding="utf-8")
    return saved


def timed(command: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        new = [sys.executable, "-m", "scaffold", "new"]
        cases = {
            "kscaffold new sequential": [*new, "sequential", "Net"],
            "kscaffold new sequential --accumulate 4": [
                *new, "sequential", "Acc", "--accumulate", "4",
            ],
            "kscaffold new conditional": [*new, "conditional", "Cond"],
            "kscaffold new recurrent --stateful --accumulate 2": [
                *new, "recurrent", "Rec", "--stateful", "--accumulate", "2",
            ],
            "kscaffold new gan": [*new, "gan", "Gan"],
            "kscaffold new layer": [*new, "layer", "Lay"],
            "kscaffold new sequential --with-test": [
                *new, "sequential", "Tested", "--with-test",
            ],
        }  # fmt: skip
        cases = {
            name: [*command, "-o", out, "--force"] for name, command in cases.items()
        }
        cwd = str(Path(__file__).resolve().parent.parent)
        rendered = sequential_file(cwd, out)
        cases[FLOOR_NAME] = [sys.executable, "-c", FLOOR]
        cases[REAL_FLOOR_NAME] = [sys.executable, "-c", REAL_FLOOR, str(rendered)]
        # pip compiles an installed wheel's modules; a checkout under
        # PYTHONDONTWRITEBYTECODE=1 would otherwise recompile scaffold/ on every run.
        compileall.compile_dir(Path(cwd) / "scaffold", quiet=1)
        for command in cases.values():  # warm the file cache and .pyc files
            timed(command, cwd)
        written = Path(out) / rendered.name.removeprefix("_floor_")
        if written.read_text(encoding="utf-8") != rendered.read_text(encoding="utf-8"):
            sys.exit(f"the real floor's file differs from the {written} written")
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, command in cases.items():
                samples[name].append(timed(command, cwd))
    floor = statistics.median(samples[FLOOR_NAME])
    real = statistics.median(samples[REAL_FLOOR_NAME])
    print(f"runs: {args.runs}, python {sys.version.split()[0]}, cpus {os.cpu_count()}")
    print(f"floor {floor:.3f} s, real floor {real:.3f} s")
    print(f"{'case':50} {'median s':>9} {'/floor':>7} {'/real':>6}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:50} {median:9.3f} {median / floor:7.2f} {median / real:6.2f}")


if __name__ == "__main__":
    main()
