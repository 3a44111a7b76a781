"""Run the train.py of a `kscaffold init` project, several times, in this process.

    python tests/distributed/train_project.py PACKAGE '[[argv, ...], [model.keras, ...]]'

Runs in the project's folder (on PYTHONPATH), as on a machine without TensorFlow:
importing tensorflow fails here, so a project that needs it fails too. Each argv runs
`PACKAGE.train.main(argv)` (its JSON summary is one line of output); then each
model.keras is loaded and the last line printed is a JSON list of their trainable
weights. Keras starts once for all of it, so a run that splits the CPU into devices
(--cpu-devices) must come first: JAX reads that when it starts.
"""

import importlib
import json
import sys

sys.modules["tensorflow"] = None  # `import tensorflow` raises ImportError

package, plan = sys.argv[1], json.loads(sys.argv[2])
runs, paths = plan
train = importlib.import_module(f"{package}.train")
for argv in runs:
    train.main(argv)

import keras
import numpy as np

print(
    json.dumps(
        [
            [np.asarray(w).tolist() for w in keras.saving.load_model(p).trainable_weights]
            for p in paths
        ]
    )
)
