"""Exceptions of mxemu, one per exit status of the ``mxemu`` command line.

Every error carries the message the CLI prints (``mxemu: error: <message>``, here without the
prefix) and ``code``, the CLI's exit status for it: 2 bad input, 3 a fault of the simulated
machine, 4 the cycle limit, 70 a bug in mxemu, and 1 for firmware that reported failure.
Bad input is also a ``ValueError``; argument checks that the CLI has no counterpart for (a
wrong NumPy dtype, say) raise a plain ``ValueError``.
"""


class Error(RuntimeError):
    """An mxemu error: ``str(e)`` is the CLI's message, ``e.code`` its exit status."""

    default_code = 70

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = self.default_code if code is None else code

    @property
    def message(self):
        return self.args[0]


class BadInputError(Error, ValueError):
    """Bad input (exit status 2): a config, tensor, name or option mxemu refuses."""

    default_code = 2


class SimFaultError(Error):
    """The simulated machine faulted (exit status 3): a trap, a bad descriptor, a deadlock."""

    default_code = 3


class CycleLimitError(Error):
    """A cycle or wall-clock limit stopped the run (exit status 4)."""

    default_code = 4


class InternalError(Error):
    """A bug in mxemu itself (exit status 70)."""

    default_code = 70


class FirmwareError(Error):
    """The firmware ran to its end and reported failure (exit status 1 of ``mxemu run``).

    ``firmware_code`` is the firmware's own exit code; ``result`` the run's RunResult (stats,
    console, outputs read back).
    """

    default_code = 1

    def __init__(self, message, firmware_code, result=None):
        super().__init__(message, 1)
        self.firmware_code = firmware_code
        self.result = result


_BY_CODE = {2: BadInputError, 3: SimFaultError, 4: CycleLimitError, 70: InternalError}


def error_for_code(code, message):
    """The exception for an mxemu::Error with exit status ``code`` (used by the extension)."""
    return _BY_CODE.get(code, Error)(message, code)
