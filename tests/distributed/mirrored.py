"""The MirroredStrategy checks, in one process: TensorFlow starts once.

The CPU is split into two logical devices before TensorFlow initialises, and one
MirroredStrategy serves every check (a second one in the same process fails: its
collective instance keys start over and clash with the first's). Prints one JSON line:
{"accumulate": [...], "conditional": {...}}; tests/test_distributed.py reads it.
"""

import json
import sys
from pathlib import Path

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.distributed import accumulate_mirrored, conditional_mirrored

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
print(
    json.dumps(
        {
            "accumulate": accumulate_mirrored.run(strategy),
            "conditional": conditional_mirrored.run(strategy),
        }
    )
)
