"""How close `kscaffold new` stays to the floor cost of its own dependencies.

Prints the median wall time of `kscaffold new` (a fresh process each run) beside
the median of `python -c "import black, click, jinja2"` plus one `black.format_str`,
and their ratio. Both are measured in the same run, alternating, so machine noise
hits both alike. Usage: python benchmarks/bench_new.py [--runs N]
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
        cases["floor: import black, click, jinja2 + format_str"] = [
            sys.executable,
            "-c",
            FLOOR,
        ]
        cwd = str(Path(__file__).resolve().parent.parent)
        # pip compiles an installed wheel's modules; a checkout under
        # PYTHONDONTWRITEBYTECODE=1 would otherwise recompile scaffold/ on every run.
        compileall.compile_dir(Path(cwd) / "scaffold", quiet=1)
        for command in cases.values():  # warm the file cache and .pyc files
            timed(command, cwd)
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, command in cases.items():
                samples[name].append(timed(command, cwd))
    floor = statistics.median(
        samples["floor: import black, click, jinja2 + format_str"]
    )
    print(f"runs: {args.runs}, python {sys.version.split()[0]}, cpus {os.cpu_count()}")
    print(f"{'case':50} {'median s':>9} {'ratio':>6}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:50} {median:9.3f} {median / floor:6.2f}")


if __name__ == "__main__":
    main()
