"""Put on PYTHONPATH, this makes a Python process a machine without TensorFlow:
``import tensorflow`` raises ImportError there.

The suite's JAX and PyTorch processes use it. The GPU machines those backends stand
for often have no TensorFlow, and Keras on JAX or PyTorch imports TensorFlow only
where it is installed (serialization asks whether it is), which costs a process here
about 5 s of CPU.
"""

import sys

sys.modules["tensorflow"] = None
