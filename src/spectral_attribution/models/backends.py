"""Precision modes and forward-pass backends: fast where the machine allows, same numbers by default.

(Over 400 lines: one job, choosing and checking how a forward pass runs; the precision table, the CPU feature probe, the export cache and each backend's agreement check must change together.)

Two independent choices govern how the explainers run a classifier:

*Precision* (:func:`resolve_precision`)
    ``"float32"`` (the default everywhere), ``"bfloat16"`` or ``"float16"``
    (``torch.autocast`` of the forward pass only: opt-in, changes the numbers),
    or ``"auto"``: reduced precision only where the hardware runs it natively,
    float32 elsewhere. ``auto`` resolves to

    ============  ==========================================================
    device        resolved precision
    ============  ==========================================================
    CUDA          ``bfloat16`` if ``torch.cuda.is_bf16_supported()``, else
                  ``float16``
    CPU           ``bfloat16`` if :func:`cpu_has_native_bfloat16`, else
                  ``float32`` (bfloat16 is emulated, about ten times slower
                  than float32, on CPUs without AVX512-BF16 or AMX)
    other         ``float32``
    ============  ==========================================================

    Results record the resolved value, never ``"auto"``.

*Backend* (:func:`make_forward`)
    What executes the network: ``"eager"`` (PyTorch, NCHW), ``"channels_last"``
    (PyTorch on a channels-last copy of the model), ``"compile"``
    (``torch.compile``, inductor), ``"onnxruntime"`` (ONNX Runtime, CPU
    execution provider), ``"openvino"`` (OpenVINO, CPU plugin, its inference
    precision set to the one asked: its default is bfloat16 on CPUs with
    AVX512-BF16/AMX) and ``"cuda_graphs"`` (one captured CUDA graph per input
    shape; written for CUDA but never run by its author, who had no GPU); or
    ``"auto"``. A backend other than eager is used only
    if its logits agree with eager float32 PyTorch on the first real batch it
    sees (max abs difference <= ``tolerance``, 1e-3 by default); otherwise,
    or when it fails to build or to run, the forward pass falls back to eager
    with a :class:`BackendFallbackWarning`.

    ``auto`` follows a fixed order (no timed probe: it would cost several
    forward passes per model and process, and would make the choice depend on
    the load of the machine) and takes the first candidate that builds and
    agrees (:data:`AUTO_ORDER`): on the CPU in float32, ONNX Runtime, then
    OpenVINO, then eager; in bfloat16 (where native), OpenVINO, then eager.
    This order comes from ``benchmarks/engine.py`` on an AVX-512/AMX Xeon and
    on the same CPU limited to AVX2 (``benchmarks/results/backends.md``): in
    float32 both are 8 to 12 times faster than eager PyTorch on
    EfficientNet-Lite0 and 1.2 to 3.9 times on ResNet-50, ONNX Runtime ahead
    in 5 of 6 comparisons; only OpenVINO runs bfloat16. ``torch.compile`` is
    left out of ``auto`` on the CPU (its first compilation takes minutes per
    batch size on two cores) and everything but eager is left out on CUDA
    until measured there; both are available explicitly.
    ``auto`` also keeps eager for models whose eager forward pass costs less
    than :data:`AUTO_MIN_EAGER_S` per image (toy models: an export would cost
    more than it saves).

A model whose network runs on a backend by itself (an ONNX graph loaded by
``load_model("onnx:...")``, ``native_backend = "onnxruntime"``) runs as it is,
in float32, whatever ``auto`` would pick; other backends are refused for it.

Compilation and export happen once per model, backend, precision, device and
input shape in a process (in-process cache), and the ONNX file that ONNX
Runtime and OpenVINO read is also cached on disk, in :func:`cache_dir`, under a
key made of the weights' SHA-256, the module classes, the input shape and the
torch version. The key cannot see attributes outside the state dict, so a
cached file is checked like a fresh one, and exported again when it disagrees;
parameter-free modules are never cached on disk.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.util
import logging
import os
import platform
import time
import warnings
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

__all__ = [
    "PRECISIONS",
    "BACKENDS",
    "AUTO_ORDER",
    "AUTO_MIN_EAGER_S",
    "TOLERANCE",
    "AUTOCAST_DTYPES",
    "BackendFallbackWarning",
    "CacheRebuildWarning",
    "cpu_info",
    "cpu_has_native_bfloat16",
    "resolve_precision",
    "available_backends",
    "cache_dir",
    "make_forward",
    "BackendForward",
]

PRECISIONS = ("float32", "bfloat16", "float16", "auto")
#: torch.autocast dtype of each resolved precision (None: no autocast).
AUTOCAST_DTYPES = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
BACKENDS = ("auto", "eager", "channels_last", "compile", "onnxruntime", "openvino", "cuda_graphs")
#: Max abs logit difference from eager float32 for a backend to be used.
TOLERANCE = 1e-3
#: Candidates tried by ``backend="auto"``, first agreeing one wins; keyed by
#: (device type, resolved precision is float32). See the module docstring.
AUTO_ORDER = {
    ("cpu", True): ("onnxruntime", "openvino", "eager"),
    ("cpu", False): ("openvino", "eager"),
    ("cuda", True): ("eager",),
    ("cuda", False): ("eager",),
}
#: ``auto`` keeps eager for models faster than this per image (seconds, eager
#: float32, first batch): toy models, where an export would cost more than it saves.
AUTO_MIN_EAGER_S = 2e-3
_CPU_ONLY = ("onnxruntime", "openvino")
_FLOAT32_ONLY = ("onnxruntime",)
_STATIC_BATCH = ("compile", "cuda_graphs")  # compiled for one batch size: padded
_PACKAGES = {"onnxruntime": "onnxruntime", "openvino": "openvino"}


class CacheRebuildWarning(UserWarning):
    """A cached export failed its check when read: it was deleted and exported again."""


class BackendFallbackWarning(UserWarning):
    """A requested backend could not be used; the forward pass runs in eager PyTorch."""


# --------------------------------------------------------------------------
# Hardware detection
# --------------------------------------------------------------------------
def _hardware_flags() -> set[str]:
    """ISA flags of the CPU as reported by torch (cpuinfo), else by /proc/cpuinfo."""
    try:
        caps = torch.cpu.get_capabilities()
        return {k for k, v in caps.items() if v is True}
    except Exception:  # torch < 2.8 has no get_capabilities
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _onednn_bf16_supported() -> bool:
    """oneDNN's own answer; it honours ``ONEDNN_MAX_CPU_ISA``."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:
        return False


def cpu_has_native_bfloat16() -> bool:
    """Whether bfloat16 convolutions and matmuls run natively on this CPU, as PyTorch is set up.

    True only when all three hold: the CPU has AVX512-BF16 or AMX-BF16
    (``torch.cpu.get_capabilities()``, or the flags of ``/proc/cpuinfo``);
    ATen dispatches to its AVX-512 kernels (``torch.backends.cpu.get_cpu_capability()``,
    lowered by ``ATEN_CPU_CAPABILITY``); and oneDNN may use bfloat16
    instructions (``torch.ops.mkldnn._is_mkldnn_bf16_supported()``, lowered by
    ``ONEDNN_MAX_CPU_ISA``). So ``ONEDNN_MAX_CPU_ISA=AVX2
    ATEN_CPU_CAPABILITY=avx2`` on an AMX machine answers False, as an
    AVX2-only CPU would. Always False off x86-64.
    """
    flags = _hardware_flags()
    if not flags & {"avx512_bf16", "amx_bf16"}:
        return False
    if torch.backends.cpu.get_cpu_capability() not in ("AVX512", "AMX"):
        return False
    return _onednn_bf16_supported()


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_info() -> dict:
    """What decides CPU speed and precision here: ``{"name", "capability", "threads",
    "avx512_bf16", "amx_bf16", "native_bfloat16"}`` (str, str, int, bool, bool, bool)."""
    flags = _hardware_flags()
    return {"name": _cpu_name(), "capability": torch.backends.cpu.get_cpu_capability(),
            "threads": torch.get_num_threads(),
            "avx512_bf16": "avx512_bf16" in flags, "amx_bf16": "amx_bf16" in flags,
            "native_bfloat16": cpu_has_native_bfloat16()}


# --------------------------------------------------------------------------
# Precision
# --------------------------------------------------------------------------
def resolve_precision(mode: str | None, device) -> str:
    """The precision actually used for ``mode`` on ``device``.

    Parameters
    ----------
    mode:
        One of :data:`PRECISIONS`; ``None`` and ``"none"`` mean ``"float32"``.
    device:
        ``torch.device`` or string.

    Returns
    -------
    str
        ``"float32"``, ``"bfloat16"`` or ``"float16"``, never ``"auto"`` (see
        the table in the module docstring).

    Raises
    ------
    ValueError
        Unknown mode (the value is named).
    """
    if mode is None or mode == "none":
        mode = "float32"
    if mode not in PRECISIONS:
        raise ValueError(f"precision must be one of {list(PRECISIONS)}, got {mode!r}")
    if mode != "auto":
        return mode
    kind = torch.device(device).type
    if kind == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if kind == "cpu" and cpu_has_native_bfloat16():
        return "bfloat16"
    return "float32"


# --------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------
def available_backends(device) -> list[str]:
    """Backends that can be tried on ``device`` here (packages importable), before any agreement check."""
    kind = torch.device(device).type
    out = ["eager", "channels_last", "compile"]
    if kind == "cpu":
        out += [b for b in _CPU_ONLY if importlib.util.find_spec(_PACKAGES[b]) is not None]
    if kind == "cuda":
        out.append("cuda_graphs")
    return out


def cache_dir() -> Path:
    """Folder of exported models: ``$SPECTRAL_ATTRIBUTION_CACHE/backends``, else
    ``$XDG_CACHE_HOME/spectral-attribution/backends`` (``~/.cache/...``)."""
    root = os.environ.get("SPECTRAL_ATTRIBUTION_CACHE")
    if root:
        return Path(root) / "backends"
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg) / "spectral-attribution" / "backends"


class _PixelNetwork(nn.Module):
    """A ModelWrapper's normalisation and network as one plain module.

    ModelWrapper.forward enters ``torch.inference_mode``, which exporters and
    compilers handle badly; this module computes the same thing without it.
    """

    def __init__(self, wrapper):
        super().__init__()
        self.network = wrapper.network
        if wrapper.mean is None:
            self.mean = self.std = None
        else:  # buffers, so that the export cache key sees the normalisation
            self.register_buffer("mean", wrapper.mean)
            self.register_buffer("std", wrapper.std)

    def forward(self, x):
        if self.mean is not None:
            x = (x - self.mean) / self.std
        return self.network(x)


def _plain_module(model: nn.Module) -> nn.Module:
    # Duck-typed (a ModelWrapper has ``network``, ``mean`` and ``std``): this
    # module sits below models in the package's layers.
    wrapper = all(hasattr(model, a) for a in ("network", "mean", "std")) and \
        isinstance(getattr(model, "network"), nn.Module)
    return _PixelNetwork(model).eval() if wrapper else model


def _autocast(device: torch.device, precision: str):
    dtype = AUTOCAST_DTYPES[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


@dataclass
class _Runner:
    """One built backend for one input shape: ``fn(x (b, C, H, W)) -> logits``."""

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    static_batch: int | None = None   # pad/chunk every call to this many rows
    build_s: float = 0.0
    disk_cache_hit: bool = False
    cached_file: Path | None = None   # the on-disk export it was read from
    max_abs_diff: float = 0.0         # vs eager float32 on the check batch
    agreed: bool = False              # passed the agreement check

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.static_batch is None:
            return self.fn(x)
        b, outs = self.static_batch, []
        for start in range(0, len(x), b):
            chunk = x[start:start + b]
            n = len(chunk)
            if n < b:  # pad with copies of the last row: same shapes, valid inputs
                chunk = torch.cat([chunk, chunk[-1:].expand(b - n, *chunk.shape[1:])])
            outs.append(self.fn(chunk)[:n])
        return torch.cat(outs)


def _build_eager(model, device, precision, example, batch_size, cache) -> _Runner:
    def fn(x):
        with torch.inference_mode(), _autocast(device, precision):
            return model(x).float()

    return _Runner("eager", fn)


def _build_channels_last(model, device, precision, example, batch_size, cache) -> _Runner:
    # A copy, so that the caller's model keeps its layout (eager stays eager).
    twin = copy.deepcopy(model).to(memory_format=torch.channels_last)

    def fn(x):
        with torch.inference_mode(), _autocast(device, precision):
            return twin(x.contiguous(memory_format=torch.channels_last)).float()

    return _Runner("channels_last", fn)


def _build_compile(model, device, precision, example, batch_size, cache) -> _Runner:
    # Static shapes (dynamic=False) and padded batches: one compilation per
    # input shape instead of a second one, with symbolic shapes, for the
    # smaller last batch of a design.
    compiled = torch.compile(_plain_module(model), dynamic=False)

    def fn(x):
        with torch.inference_mode(), _autocast(device, precision):
            return compiled(x).float()

    return _Runner("compile", fn, static_batch=batch_size)


def _build_cuda_graphs(model, device, precision, example, batch_size, cache) -> _Runner:
    # Written for CUDA, never run on the machines this was developed on.
    plain = _plain_module(model)
    with torch.inference_mode():
        static_in = example[:1].expand(batch_size, *example.shape[1:]).clone()
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side), _autocast(device, precision):
            for _ in range(3):  # warm-up: cuDNN autotuning, lazy allocations
                plain(static_in)
        torch.cuda.current_stream(device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph), _autocast(device, precision):
            static_out = plain(static_in).float()

    def fn(x):
        with torch.inference_mode():
            static_in.copy_(x)
            graph.replay()
            return static_out.clone()

    return _Runner("cuda_graphs", fn, static_batch=batch_size)


@contextlib.contextmanager
def _quiet_loggers(*names: str):
    """Raise these loggers to WARNING for the block: the exporter's INFO lines
    would fill a workflow job's log (which logs at INFO)."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _state_sha256(module: nn.Module) -> str:
    """SHA-256 of a module's state dict (names, dtypes, shapes, bytes; keys sorted)."""
    h = hashlib.sha256()
    state = module.state_dict()
    for key in sorted(state):
        t = state[key].detach().to("cpu").contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _onnx_file(model: nn.Module, shape: tuple, folder: Path | None) -> tuple[Path, bool, bool]:
    """Export ``model`` for ``(B, *shape)`` with a dynamic batch axis; cached on disk.

    Returns (path, came from the cache, path is a temporary file to delete).
    """
    plain = _plain_module(model)
    cacheable = folder is not None and len(plain.state_dict()) > 0
    if cacheable:
        # Parameter-free modules may depend on attributes no hash sees: never cached.
        key = hashlib.sha256("|".join([
            _state_sha256(plain), type(model).__qualname__, type(plain).__qualname__,
            "x".join(map(str, shape)), torch.__version__]).encode()).hexdigest()[:24]
        path = Path(folder) / f"{key}.onnx"
        if path.is_file():
            reason = _cached_export_fault(path)
            if reason is None:
                return path, True, False
            _discard_cached_export(path, reason)
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        import tempfile

        fd, name = tempfile.mkstemp(suffix=".onnx")
        os.close(fd)
        path = Path(name)
    # Export at batch 2: torch.export specialises dimensions of size 1.
    example = torch.rand(2, *shape, generator=torch.Generator().manual_seed(0))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with warnings.catch_warnings(), open(os.devnull, "w") as quiet, \
            contextlib.redirect_stdout(quiet), _quiet_loggers("onnx_ir", "onnxscript", "torch.onnx"):
        warnings.simplefilter("ignore")
        torch.onnx.export(plain, (example,), str(tmp), dynamo=True, external_data=False,
                          input_names=["x"], output_names=["logits"],
                          dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=65536)},),
                          verbose=False)
    os.replace(tmp, path)  # atomic: parallel jobs never read a half-written file
    if cacheable:  # the entry's SHA-256, checked whenever it is read again
        side = tmp.with_name(tmp.name + ".sha256")
        side.write_text(_sha256_of_file(path) + "\n")
        os.replace(side, _sidecar(path))
    return path, False, not cacheable


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _sha256_of_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _cached_export_fault(path: Path) -> str | None:
    """Why the cached export ``path`` cannot be trusted, or ``None`` when it checks out.

    An entry written with its SHA-256 beside it (``<key>.onnx.sha256``) must
    match it; an older entry without one must parse as an ONNX model
    (``onnx.load``).
    """
    try:
        side = _sidecar(path)
        if side.is_file():
            want = side.read_text().strip()
            got = _sha256_of_file(path)
            return None if got == want else (f"its SHA-256 starts {got[:12]}, the one recorded at "
                                             f"export {want[:12]}")
        import onnx

        model = onnx.load(str(path), load_external_data=False)
        return None if model.graph.node else "it parses as an empty graph"
    except Exception as exc:  # unreadable, truncated, not protobuf
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"


#: Cached exports already reported as discarded in this process (said once each).
_DISCARDED: set[str] = set()


def _discard_cached_export(path: Path, reason: str) -> None:
    """Delete a bad cache entry (and its SHA-256), saying so once per file and process."""
    for p in (path, _sidecar(path)):
        try:
            p.unlink(missing_ok=True)
        except OSError:  # a read-only cache: the export below goes to a temporary file instead
            pass
    if str(path) not in _DISCARDED:
        _DISCARDED.add(str(path))
        warnings.warn(f"cached export {path} failed its check ({reason}); discarded, exporting "
                      f"the model again", CacheRebuildWarning, stacklevel=4)


def _open_export(model, shape, cache, open_fn):
    """``open_fn(path)`` on the (cached) export; a cached file that fails to open is
    discarded and exported once more. Returns ``(path, hit, temporary, opened)``."""
    path, hit, temporary = _onnx_file(model, shape, cache)
    try:
        return path, hit, temporary, open_fn(path)
    except Exception as exc:
        if not hit:
            raise
        _discard_cached_export(path, f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}")
    path, hit, temporary = _onnx_file(model, shape, cache)
    return path, hit, temporary, open_fn(path)


def _build_onnxruntime(model, device, precision, example, batch_size, cache) -> _Runner:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()  # same thread budget as torch
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    path, hit, temporary, session = _open_export(
        model, tuple(example.shape[1:]), cache,
        lambda p: ort.InferenceSession(str(p), options, providers=["CPUExecutionProvider"]))
    if temporary:
        path.unlink(missing_ok=True)
    name = session.get_inputs()[0].name

    def fn(x):
        out = session.run(None, {name: x.detach().to("cpu", torch.float32).contiguous().numpy()})[0]
        return torch.from_numpy(out).to(x.device)

    return _Runner("onnxruntime", fn, disk_cache_hit=hit, cached_file=None if temporary else path)


def _build_openvino(model, device, precision, example, batch_size, cache) -> _Runner:
    import openvino as ov

    core = ov.Core()  # no CACHE_DIR: compiling takes about a second; parallel jobs would share blobs
    # The CPU plugin's default inference precision is bfloat16 on CPUs with
    # AVX512-BF16/AMX: machine-dependent numbers. Set it to the precision asked.
    hint = {"float32": "f32", "bfloat16": "bf16"}[precision]
    config = {"INFERENCE_PRECISION_HINT": hint,
              "EXECUTION_MODE_HINT": "ACCURACY" if precision == "float32" else "PERFORMANCE",
              "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": torch.get_num_threads()}
    path, hit, temporary, compiled = _open_export(
        model, tuple(example.shape[1:]), cache,
        lambda p: core.compile_model(core.read_model(str(p)), "CPU", config))
    if temporary:
        path.unlink(missing_ok=True)
    request = compiled.create_infer_request()

    def fn(x):
        out = request.infer([x.detach().to("cpu", torch.float32).contiguous().numpy()])
        return torch.from_numpy(out[compiled.outputs[0]].copy()).to(x.device)

    return _Runner("openvino", fn, disk_cache_hit=hit, cached_file=None if temporary else path)


_BUILDERS = {
    "eager": _build_eager,
    "channels_last": _build_channels_last,
    "compile": _build_compile,
    "onnxruntime": _build_onnxruntime,
    "openvino": _build_openvino,
    "cuda_graphs": _build_cuda_graphs,
}

# model -> {(backend, precision, device, shape, static batch, cache folder): _Runner}.
# Entries die with the model, except compiled ones (torch.compile's result
# holds the model, as torch's own compilation caches do, until the process ends).
_RUNNERS: "weakref.WeakKeyDictionary[nn.Module, dict]" = weakref.WeakKeyDictionary()


def _check_request(backend: str, device: torch.device, precision: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    if backend in _CPU_ONLY and device.type != "cpu":
        raise ValueError(f"backend {backend!r} runs on the CPU only; device is {device}")
    if backend == "cuda_graphs" and device.type != "cuda":
        raise ValueError(f"backend 'cuda_graphs' needs a CUDA device; device is {device}")
    if backend in _FLOAT32_ONLY and precision != "float32":
        raise ValueError(f"backend {backend!r} runs in float32 only; precision is {precision!r}")
    if backend == "openvino" and precision != "float32" and not _openvino_reduced_ok(precision):
        raise ValueError(f"backend 'openvino' runs {precision} only on CPUs with native bfloat16 "
                         f"(cpu_has_native_bfloat16() is False here); use precision='float32'")


def _openvino_reduced_ok(precision: str) -> bool:
    # OpenVINO's bfloat16 kernels need AVX512-BF16/AMX (with oneDNN's ISA capped
    # below that, its CPU plugin crashes instead of falling back).
    return precision == "bfloat16" and cpu_has_native_bfloat16()


class BackendForward:
    """A classifier's logits through the chosen backend and precision.

    Built by :func:`make_forward`; call it with ``x``, a ``(B, C, H, W)``
    float32 tensor of pixel values in ``[0, 1]`` on any device, to get
    ``(B, K)`` float32 logits on :attr:`device`. Any ``B`` works (backends
    with static shapes pad the last batch and split larger ones); each new
    ``(C, H, W)`` builds (and checks) the backend once for that shape.
    """

    def __init__(self, model: nn.Module, backend: str = "auto", precision: str = "float32",
                 device=None, batch_size: int | None = None, tolerance: float = TOLERANCE,
                 cache: str | os.PathLike | None | bool = True):
        self.model = model.eval()
        if device is None:
            device = next((p.device for p in model.parameters()), torch.device("cpu"))
        self.device = torch.device(device)
        self.requested_precision = "float32" if precision in (None, "none") else precision
        self.precision = resolve_precision(precision, self.device)
        self.requested_backend = backend
        #: The backend a network runs on by itself (an ONNX graph: "onnxruntime"), or None.
        self.native = getattr(getattr(model, "network", model), "native_backend", None)
        if self.native is not None:
            if backend not in ("auto", "eager", self.native):
                raise ValueError(f"backend {backend!r} cannot run an ONNX model, which runs through "
                                 f"{self.native}; use backend 'auto' or {self.native!r}")
            if self.precision != "float32" and self.requested_precision != "auto":
                raise ValueError(f"an ONNX model runs in float32 through {self.native}; precision "
                                 f"{self.precision!r} is not available for it")
            self.precision = "float32"
        _check_request(backend, self.device, self.precision)
        if batch_size is not None and (int(batch_size) != batch_size or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = None if batch_size is None else int(batch_size)
        self.tolerance = float(tolerance)
        self.cache = (cache_dir() if cache is True else None if cache in (False, None)
                      else Path(cache))
        self._runners: dict[tuple, _Runner] = {}

    # -- public -----------------------------------------------------------
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"x must be a (B, C, H, W) tensor, got shape {tuple(x.shape)}")
        x = x.to(self.device, torch.float32)
        shape = tuple(x.shape[1:])
        runner = self._runners.get(shape) or self._build(x)
        if runner.name == "eager":
            return runner(x)
        try:
            return runner(x)
        except Exception as err:  # a backend that built and agreed, then failed: stay correct
            warnings.warn(f"backend {runner.name!r} failed on a batch of shape {tuple(x.shape)} "
                          f"({type(err).__name__}: {err}); using eager PyTorch from now on",
                          BackendFallbackWarning, stacklevel=2)
            self._runners[shape] = eager = self._get(x, "eager")
            return eager(x)

    def settings(self) -> dict:
        """What ran, for the results: ``{"backend", "precision", "backend_requested",
        "precision_requested", "max_abs_logit_diff"}``.

        ``backend`` and ``precision`` are resolved values (never ``"auto"``);
        ``backend`` is ``"+"``-joined when input shapes ended on different
        backends. ``max_abs_logit_diff`` is the largest difference from eager
        float32 found by the agreement checks (0.0 for eager, which is not
        checked, at any precision). Before any
        call, the backend is built on a random example of the model's input
        size (``preprocessing.crop``, else 224 x 224).
        """
        if not self._runners:
            self.build()
        names = sorted({r.name for r in self._runners.values()})
        return {"backend": "+".join(names), "precision": self.precision,
                "backend_requested": self.requested_backend,
                "precision_requested": self.requested_precision,
                "max_abs_logit_diff": max(r.max_abs_diff for r in self._runners.values())}

    @property
    def backend(self) -> str:
        """The resolved backend (see :meth:`settings`)."""
        return self.settings()["backend"]

    def build(self, example: torch.Tensor | None = None) -> "BackendForward":
        """Build (and check) the backend now, on ``example`` ``(B, C, H, W)`` in ``[0, 1]``,
        or on a seeded random batch of the model's input size."""
        if example is None:
            pre = getattr(self.model, "preprocessing", None)
            side = getattr(pre, "crop", None) or 224
            b = min(self.batch_size or 2, 8)
            example = torch.rand(b, 3, side, side, generator=torch.Generator().manual_seed(0))
        example = example.to(self.device, torch.float32)
        self._build(example)
        return self

    # -- building -----------------------------------------------------------
    def _key(self, name: str, x: torch.Tensor) -> tuple:
        static = self.batch_size or len(x) if name in _STATIC_BATCH else None
        return (name, self.precision, str(self.device), tuple(x.shape[1:]), static, str(self.cache))

    def _get(self, x: torch.Tensor, name: str) -> _Runner:
        """Runner ``name`` for ``x``'s shape, from the in-process cache or built now (unchecked)."""
        per_model = _RUNNERS.setdefault(self.model, {})
        key = self._key(name, x)
        if key not in per_model:
            t0 = time.perf_counter()
            runner = _BUILDERS[name](self.model, self.device, self.precision, x,
                                     self.batch_size or len(x), self.cache)
            runner.build_s = time.perf_counter() - t0
            if name != "eager":
                per_model[key] = runner  # eager costs nothing to rebuild; keep no copy
            return runner
        return per_model[key]

    def _reference(self, x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self.model(x).float()

    def _build(self, x: torch.Tensor) -> _Runner:
        shape = tuple(x.shape[1:])
        if self.native is not None:  # an ONNX graph: ONNX Runtime already runs it
            runner = _build_eager(self.model, self.device, "float32", x, 0, None)
            runner.name, runner.agreed = self.native, True
            self._runners[shape] = runner
            return runner
        auto = self.requested_backend == "auto"
        if auto:
            candidates = AUTO_ORDER.get((self.device.type, self.precision == "float32"), ("eager",))
            candidates = [c for c in candidates if c in available_backends(self.device)
                          and (c != "openvino" or self.precision == "float32"
                               or _openvino_reduced_ok(self.precision))]
        else:
            candidates = [self.requested_backend]
        candidates = [c for c in candidates if c != "eager"]
        per_model = _RUNNERS.get(self.model, {})
        for name in candidates:  # built and checked earlier in this process
            cached = per_model.get(self._key(name, x))
            if cached is not None and cached.agreed:
                self._runners[shape] = cached
                return cached
        # Every candidate already failed or disagreed for this model and shape in
        # this process: eager at once, without exporting (and warning) again.
        decided = ("eager-decided", self.requested_backend, self.precision, str(self.device), shape,
                   str(self.cache))
        if candidates and decided in per_model:
            runner = self._get(x, "eager")
            self._runners[shape] = runner
            return runner
        reference = allowed = None
        if candidates:
            t0 = time.perf_counter()
            reference = self._reference(x)
            seconds_per_image = (time.perf_counter() - t0) / len(x)
            if auto and seconds_per_image < AUTO_MIN_EAGER_S:
                candidates = []  # nothing to gain that would pay for an export
            allowed = self.tolerance
            if candidates and self.precision != "float32":
                # Reduced precision: a backend may differ from float32 as much
                # as eager at that precision does, twice over at most.
                own = _build_eager(self.model, self.device, self.precision, x, 0, None)(x)
                allowed = max(self.tolerance, 2.0 * float((own - reference).abs().max()))
        for name in candidates:
            last = name == candidates[-1]
            then = "using eager PyTorch" if last else "trying the next candidate"
            try:
                runner = self._get(x, name)
                diff = self._diff(runner, x, reference)
                if not diff <= allowed and runner.cached_file is not None:
                    # A stale exported file (its key missed something): export once more.
                    runner.cached_file.unlink(missing_ok=True)
                    _RUNNERS.get(self.model, {}).pop(self._key(name, x), None)
                    runner = self._get(x, name)
                    diff = self._diff(runner, x, reference)
            except Exception as err:
                _RUNNERS.get(self.model, {}).pop(self._key(name, x), None)
                warnings.warn(f"backend {name!r} could not be built for inputs of shape {shape} "
                              f"({type(err).__name__}: {err}); {then}", BackendFallbackWarning, stacklevel=4)
                continue
            runner.max_abs_diff = diff
            if diff <= allowed:
                runner.agreed = True
                self._runners[shape] = runner
                return runner
            _RUNNERS.get(self.model, {}).pop(self._key(name, x), None)
            warnings.warn(f"backend {name!r} disagrees with eager PyTorch float32 on inputs of shape "
                          f"{shape}: max abs logit difference {diff:.3g} > {allowed:.3g}; {then}",
                          BackendFallbackWarning, stacklevel=4)
        if reference is not None:  # candidates were considered: remember the outcome
            _RUNNERS.setdefault(self.model, {})[decided] = True
        runner = self._get(x, "eager")
        self._runners[shape] = runner
        return runner

    @staticmethod
    def _diff(runner: _Runner, x: torch.Tensor, reference: torch.Tensor) -> float:
        out = runner(x)
        if out.shape != reference.shape:
            return float("inf")
        return float((out.float() - reference).abs().max())


def make_forward(model: nn.Module, backend: str = "auto", precision: str = "float32", device=None, *,
                 batch_size: int | None = None, example: torch.Tensor | None = None,
                 tolerance: float = TOLERANCE, cache: str | os.PathLike | bool | None = True) -> BackendForward:
    """The forward pass of ``model`` through ``backend`` at ``precision``.

    Parameters
    ----------
    model:
        A :class:`~spectral_attribution.models.ModelWrapper` or any module
        mapping ``(B, C, H, W)`` ``[0, 1]`` images to ``(B, K)`` logits; in
        eval mode, never modified (channels-last works on a copy).
    backend:
        One of :data:`BACKENDS` (module docstring). ``"auto"`` by default.
    precision:
        One of :data:`PRECISIONS`, resolved by :func:`resolve_precision`;
        ``"float32"`` by default.
    device:
        Where the model runs; default: the device of its parameters.
    batch_size:
        Rows per call of the caller (the engine's batch size): the static
        batch of ``compile`` and ``cuda_graphs`` (smaller calls are padded,
        larger ones split). Default: the size of the first batch.
    example:
        A real ``(B, C, H, W)`` batch to build and check the backend on now;
        without it, each input shape is built and checked on the first call
        with that shape.
    tolerance:
        Max abs logit difference from eager float32 allowed (1e-3).
    cache:
        Folder of exported ONNX files; ``True``: :func:`cache_dir`; ``False``
        or ``None``: export to a temporary file each process.

    Returns
    -------
    BackendForward

    Raises
    ------
    ValueError
        Unknown backend or precision; a CPU-only backend (``onnxruntime``,
        ``openvino``) on another device, ``cuda_graphs`` off CUDA, or a
        float32-only backend (``onnxruntime``, ``openvino``) with reduced
        precision; ``batch_size < 1``.
    """
    forward = BackendForward(model, backend, precision, device, batch_size, tolerance, cache)
    if example is not None:
        forward.build(example)
    return forward
