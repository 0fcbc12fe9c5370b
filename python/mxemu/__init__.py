"""mxemu from Python: the FP8/MX numerics reference and the cycle-level chip on NumPy arrays.

- ``mxemu.numerics``: decode/encode FP8 (E4M3, E5M2) and UE8M0, MX quantisation, the MXFP8 GEMM.
- ``mxemu.Chip``: a simulated chip; ``Chip.gemm`` is ``mxemu gemm``, ``Chip.run`` is
  ``mxemu run`` (firmware with input tensors, scalars and outputs read back by name).
- ``mxemu.Error`` and its subclasses: the CLI's errors, with its message and exit status.

See docs/PYTHON.md.
"""

from mxemu import numerics
from mxemu._mxemu import __version__
from mxemu.chip import Chip, RunResult, bundled_kernels
from mxemu.errors import (BadInputError, CycleLimitError, Error, FirmwareError, InternalError,
                          SimFaultError)

__all__ = [
    "BadInputError", "Chip", "CycleLimitError", "Error", "FirmwareError", "InternalError",
    "RunResult", "SimFaultError", "bundled_kernels", "numerics", "__version__",
]
