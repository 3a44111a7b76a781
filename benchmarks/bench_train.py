"""Training throughput of the generated train steps against Keras's own, per backend.

For each backend, in a process of its own (KERAS_BACKEND set), on the same Dense
architecture and data:

- `--train-step` (the generated train_step) against Keras's built-in fit of the
  plain `kscaffold new sequential` file;
- `--accumulate 4` (the generated accumulating step) against that plain file with
  Keras's built-in `gradient_accumulation_steps=4`.

Each model is compiled and warmed up with one epoch; then every round times the
same epochs of each case in turn. Time is the process's CPU time, on --threads
threads (default 1): on a shared machine, wall time jumped tenfold between identical
epochs as thread pools waited for a core. Printed per backend: samples per CPU second
of each case in its best round, and two ratios of generated over built-in (1.00 is
parity; the goal is at least 0.97): the ratio of the best rounds, which noise can
only slow, and the median of the per-round ratios with their quartiles: identical
epochs still varied by 20% in CPU time there.
Usage: python benchmarks/bench_train.py [--rounds N] [--threads N] [--backends jax,torch]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("tensorflow", "jax", "torch")
FEATURES, UNITS, SAMPLES, BATCH, ACCUMULATE = 64, "256,256", 4096, 64, 4
# (case, the case it is measured against)
PAIRS = [
    ("--train-step", "built-in fit"),
    (
        f"--accumulate {ACCUMULATE}",
        f"built-in gradient_accumulation_steps={ACCUMULATE}",
    ),
]


def generated_classes(folder: Path, backend: str) -> dict[str, type]:
    """The plain, --train-step and --accumulate files for ``backend``."""
    sys.path.insert(0, str(ROOT))
    from scaffold.generate import new
    from scaffold.verify import import_file

    shape = {"units": UNITS, "outputs": 1, "output_activation": "linear"}
    options = {
        "Plain": {},
        "Stepper": {"train_step": True},
        "Accumulator": {"accumulate": ACCUMULATE},
    }
    classes = {}
    for name, values in options.items():
        [target] = new(
            "sequential",
            name,
            {**shape, **values},
            destination=folder,
            backend=backend,
        )
        classes[name] = getattr(import_file(target.path), name)
    return classes


def worker(rounds: int, threads: int) -> None:
    """Measure every case on this process's backend; print one JSON line."""
    import keras
    import numpy as np

    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(threads)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, FEATURES)).astype("float32")
    y = (x @ rng.normal(size=(FEATURES, 1)) / 8).astype("float32")
    with tempfile.TemporaryDirectory() as folder:
        classes = generated_classes(Path(folder), keras.backend.backend())
        cases = {
            "built-in fit": (classes["Plain"], keras.optimizers.Adam()),
            "--train-step": (classes["Stepper"], keras.optimizers.Adam()),
            f"built-in gradient_accumulation_steps={ACCUMULATE}": (
                classes["Plain"],
                keras.optimizers.Adam(gradient_accumulation_steps=ACCUMULATE),
            ),
            f"--accumulate {ACCUMULATE}": (
                classes["Accumulator"],
                keras.optimizers.Adam(),
            ),
        }
        models = {}
        for name, (cls, optimizer) in cases.items():
            keras.utils.set_random_seed(0)
            model = cls()
            model.build((None, FEATURES))
            model.compile(optimizer=optimizer, loss="mse")
            # The first epoch compiles (TensorFlow graph, JAX jit) and warms caches.
            model.fit(x, y, batch_size=BATCH, shuffle=False, verbose=0)
            models[name] = model
        # Enough epochs per timing that it takes about 1 CPU second (JAX runs an
        # epoch in a third of that).
        start = time.process_time()
        models["built-in fit"].fit(x, y, batch_size=BATCH, shuffle=False, verbose=0)
        epochs = max(1, round(1.0 / (time.process_time() - start)))
        seconds: dict[str, list[float]] = {name: [] for name in models}
        for _ in range(rounds):
            for name, model in models.items():
                start = time.process_time()
                model.fit(
                    x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0
                )
                seconds[name].append((time.process_time() - start) / epochs)
    print(
        json.dumps(
            {
                "keras": keras.__version__,
                "jit_compile": {n: str(m.jit_compile) for n, m in models.items()},
                "epochs": epochs,
                "seconds": seconds,
            }
        )
    )


def table(backend: str, result: dict) -> str:
    seconds = result["seconds"]
    jit = sorted(set(result["jit_compile"].values()))
    title = (
        f"{backend} (keras {result['keras']}, jit_compile {'/'.join(jit)}): "
        f"{SAMPLES} samples of {FEATURES}, Dense {UNITS} -> 1, batch {BATCH}, "
        f"Adam; median of {len(next(iter(seconds.values())))} rounds "
        f"of {result['epochs']} epochs"
    )
    lines = [
        title,
        f"  {'case':42} {'samples/cpu s':>13}  {'ratio: best':>11}  median (quartiles)",
    ]
    for case, baseline in PAIRS:
        for name in (baseline, case):
            best = SAMPLES / min(seconds[name])
            ratio = ""
            if name == case:
                ratios = [b / c for b, c in zip(seconds[baseline], seconds[case])]
                low, median, high = statistics.quantiles(ratios, n=4)
                ratio = f"{min(seconds[baseline]) / min(seconds[case]):11.3f}  "
                ratio += f"{median:.3f} ({low:.3f}-{high:.3f})"
            lines.append(f"  {name:42} {best:13.0f}  {ratio}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.rounds, args.threads)
        return
    print(
        f"python {sys.version.split()[0]}, cpus {os.cpu_count()}, "
        f"threads per backend {args.threads}"
    )
    n = str(args.threads)
    threads = {
        "OMP_NUM_THREADS": n,
        "TF_NUM_INTRAOP_THREADS": n,
        "TF_NUM_INTEROP_THREADS": n,
        "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen={str(n != '1').lower()} "
        f"intra_op_parallelism_threads={n}",
    }
    for backend in args.backends.split(","):
        env = {
            **os.environ,
            **threads,
            "KERAS_BACKEND": backend,
            "TF_CPP_MIN_LOG_LEVEL": "3",
        }
        worker_args = ["--worker", "--rounds", str(args.rounds), "--threads", n]
        done = subprocess.run(
            [sys.executable, __file__, *worker_args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(f"{backend}: the worker failed\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(table(backend, result), flush=True)


if __name__ == "__main__":
    main()
