"""mxemu.Chip: one simulated chip driven from NumPy, as ``mxemu run`` and ``mxemu gemm`` drive it.

Each call elaborates the chip afresh in a SystemC context of its own, runs it to its end and
returns a RunResult; runs from several Python threads take turns (SystemC has one simulation
per process), each with the GIL released.
"""

import dataclasses
import json
import numbers
import os
import tomllib

from mxemu import _mxemu
from mxemu.errors import BadInputError, FirmwareError

# Kernels the build may bundle (firmware/kernels); bundled_kernels() says which it did.
_KERNEL_NAMES = ("gemm", "quantize", "linear_relu", "demo")
# The CLI's bounds on --max-cycles and --max-seconds (testbench/mxemu/options.h).
_MAX_CYCLE_LIMIT = 10**15
_MAX_SECONDS_LIMIT = 1e7


def bundled_kernels():
    """Names of the firmware kernels bundled into this build (usable as Chip.run firmware)."""
    return tuple(k for k in _KERNEL_NAMES if _mxemu.bundled_kernel(k) is not None)


@dataclasses.dataclass
class RunResult:
    """What a run produced.

    outputs: tensors read back by name (uint8 or float32 arrays); stats: the statistics the
    CLI's ``--stats`` writes, as a dict; cycles: chip cycles of the run; exit_code: the
    firmware's (0: passed); console: what the firmware printed; timeline: the path of the
    timeline written, or None; host_seconds: wall-clock time of the simulation.
    """

    outputs: dict
    stats: dict
    cycles: int
    exit_code: int
    console: str
    timeline: str = None
    host_seconds: float = 0.0

    def __getitem__(self, name):
        return self.outputs[name]

    @property
    def mxu_utilization(self):
        """Fraction of the MXUs' peak MAC rate the run achieved."""
        return self.stats["mxu_utilization"]


def _check_int(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return int(value)


def _options(cycle_accurate, max_cycles, max_seconds, threads, timeline, echo):
    o = _mxemu.RunOptions()
    o.cycle_accurate = bool(cycle_accurate)
    o.max_cycles = _check_int(max_cycles, "max_cycles", 0, _MAX_CYCLE_LIMIT)
    if isinstance(max_seconds, bool) or not isinstance(max_seconds, numbers.Real):
        raise ValueError(f"max_seconds must be a number, got {type(max_seconds).__name__}")
    if not 0 <= max_seconds <= _MAX_SECONDS_LIMIT:
        raise ValueError(f"max_seconds must be in [0, {_MAX_SECONDS_LIMIT:g}], got {max_seconds}")
    o.max_seconds = float(max_seconds)
    o.threads = _check_int(threads, "threads", 0, 65536)
    o.record_timeline = timeline is not None
    o.echo_console = bool(echo)
    return o


def _result(d, timeline):
    path = None
    if timeline is not None:
        path = os.fsdecode(timeline)
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(d["timeline_json"])
        except OSError:
            raise BadInputError(f"cannot write timeline file '{path}'") from None
    return RunResult(outputs=dict(d["outputs"]), stats=json.loads(d["stats_json"]),
                     cycles=d["cycles"], exit_code=d["exit_code"],
                     console=d["console"].decode("utf-8", errors="replace"), timeline=path,
                     host_seconds=d["host_seconds"])


class Chip:
    """A simulated chip of one configuration.

    config: None for the defaults (chip "mx1"), or the path of a TOML config file (the CLI's
    ``--config``; ``mxemu config --dump`` lists every key). ``Chip.from_toml(text)`` takes the
    TOML text itself. A bad config raises BadInputError with the CLI's message.
    """

    def __init__(self, config=None):
        if config is None:
            self._config = _mxemu.load_config("")
        elif isinstance(config, (str, bytes, os.PathLike)):
            self._config = _mxemu.load_config(os.fsdecode(config))
        else:
            raise ValueError("config must be None or the path of a TOML file, got "
                             f"{type(config).__name__} (Chip.from_toml takes TOML text)")

    @classmethod
    def from_toml(cls, text, source="<string>"):
        """A chip from TOML text; ``source`` names it in error messages."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a str of TOML, got {type(text).__name__}")
        chip = cls.__new__(cls)
        chip._config = _mxemu.parse_config(text, source)
        return chip

    @property
    def name(self):
        """The chip model's name (config key chip.name)."""
        return self._config.name

    @property
    def mx_block(self):
        """The configured MX block size (config key mx.block)."""
        return self._config.mx_block

    @property
    def config_source(self):
        """Where the configuration came from ("defaults", a path, or the from_toml source)."""
        return self._config.source

    def dump_config(self):
        """Every config key with its effective value, as ``mxemu config --dump`` prints it."""
        return self._config.dump()

    @property
    def config(self):
        """The effective configuration as a dict of tables (the dump, parsed), e.g.
        ``chip.config["mxu"]["count"]``."""
        return tomllib.loads(self.dump_config())

    def __repr__(self):
        return f"Chip(name={self.name!r}, config={self.config_source!r})"

    @staticmethod
    def _firmware(firmware):
        if isinstance(firmware, (bytes, bytearray, memoryview)):
            return bytes(firmware), "<bytes>"
        if isinstance(firmware, str) and os.sep not in firmware and not os.path.exists(firmware):
            elf = _mxemu.bundled_kernel(firmware)
            if elf is None:
                raise BadInputError(f"firmware '{firmware}' is neither a file nor a bundled "
                                    f"kernel ({', '.join(bundled_kernels())})")
            return elf, f"{firmware} (bundled)"
        if isinstance(firmware, (str, os.PathLike)):
            path = os.fsdecode(firmware)
            try:
                with open(path, "rb") as f:
                    return f.read(), path
            except OSError:
                raise BadInputError(f"cannot open firmware file '{path}'") from None
        raise ValueError("firmware must be ELF bytes, a path or a bundled kernel name, got "
                         f"{type(firmware).__name__}")

    def run(self, firmware, inputs=None, scalars=None, outputs=(), *, timeline=None,
            cycle_accurate=False, max_cycles=_mxemu.DEFAULT_RUN_MAX_CYCLES,
            max_seconds=_mxemu.DEFAULT_MAX_SECONDS, threads=0, check=True, echo=False):
        """Run firmware on the chip, as ``mxemu run``.

        firmware: ELF bytes, the path of an ELF file, or the name of a bundled kernel
        (bundled_kernels()). inputs: {name: array} tensors placed in HBM and listed in the
        launch block (uint8 codes or float32, 1 to 4 dimensions). scalars: {name: int} 32-bit
        launch-block parameters. outputs: names of tensors to read back after the run.
        timeline: a path to write the Perfetto/Chrome trace of every command to.
        cycle_accurate, max_cycles (0: no limit), max_seconds (0: none), threads (0: one per
        host core): as the CLI's options. echo: copy the firmware's console to stdout as it runs.

        Returns a RunResult. Raises FirmwareError (code 1) when the firmware reports failure
        and check is true (with check false the result carries exit_code), SimFaultError (3)
        for a fault or deadlock, CycleLimitError (4), BadInputError (2) for bad input; each
        with the CLI's message.
        """
        elf, name = self._firmware(firmware)
        if inputs is None:
            inputs = {}
        if scalars is None:
            scalars = {}
        if not isinstance(inputs, dict):
            raise ValueError(f"inputs must be a dict of name -> array, got {type(inputs).__name__}")
        if not isinstance(scalars, dict):
            raise ValueError(f"scalars must be a dict of name -> int, got {type(scalars).__name__}")
        if isinstance(outputs, (str, bytes)):
            raise ValueError(f"outputs must be a list of names, got the string {outputs!r} "
                             f"(write [{outputs!r}])")
        outputs = list(outputs)
        for what, names in (("input", inputs), ("scalar", scalars), ("output", outputs)):
            for n in names:
                if not isinstance(n, str):
                    raise ValueError(f"{what} names must be str, got {type(n).__name__} {n!r}")
        scalar_list = [(n, _check_int(v, f"scalar '{n}'", 0, 0xFFFFFFFF))
                       for n, v in scalars.items()]
        opt = _options(cycle_accurate, max_cycles, max_seconds, threads, timeline, echo)
        d = _mxemu.run_firmware(self._config, elf, name, list(inputs.items()), scalar_list,
                                outputs, opt)
        result = _result(d, timeline)
        if check and result.exit_code != 0:
            line = d["exit_line"]
            prefix = "mxemu: "
            raise FirmwareError(line[len(prefix):] if line.startswith(prefix) else line,
                                result.exit_code, result)
        return result

    def gemm(self, a, b, sa=None, sb=None, block=None, fmt_a="e4m3", fmt_b="e4m3", c_init=None,
             *, timeline=None, cycle_accurate=False, max_cycles=_mxemu.DEFAULT_GEMM_MAX_CYCLES,
             max_seconds=_mxemu.DEFAULT_MAX_SECONDS, threads=0, echo=False):
        """C = c_init + A.B (MXFP8) by the bundled gemm firmware on the chip, as ``mxemu gemm``.

        a: M x K uint8 FP8 codes, b: K x N; sa: M x K/block, sb: K/block x N uint8 UE8M0 scales
        (both or neither); block: None for the config's mx.block; fmt_a, fmt_b: 'e4m3' or
        'e5m2'; c_init: M x N float32. The other options as for run().

        Returns a RunResult whose outputs["C"] (also result["C"]) is C, M x N float32, equal bit
        for bit to mxemu.numerics.gemm. Shape, format and block errors raise BadInputError (a
        ValueError) with the CLI's message; a wrong dtype raises ValueError.
        """
        if block is not None:
            block = _check_int(block, "block", -2**31, 2**31 - 1)
        for what, f in (("fmt_a", fmt_a), ("fmt_b", fmt_b)):
            if not isinstance(f, str):
                raise ValueError(f"{what} must be 'e4m3' or 'e5m2', got {type(f).__name__}")
        opt = _options(cycle_accurate, max_cycles, max_seconds, threads, timeline, echo)
        d = _mxemu.run_gemm(self._config, a, b, sa, sb, block, fmt_a, fmt_b, c_init, opt)
        return _result(d, timeline)
