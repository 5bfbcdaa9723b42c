"""ONNX image classifiers (``onnx:<path>``), run through ONNX Runtime; gradients through onnx2torch.

Any framework that exports ONNX (PyTorch, TensorFlow/Keras through
``tf2onnx``, JAX through ``jax2tf`` then ``tf2onnx``) gives a model every
explainer can run: the WCAM, Fourier-CAM and spatial Sobol' only need scores,
which ONNX Runtime computes on the CPU; the WAM needs gradients, which come
from the same graph converted to PyTorch by ``onnx2torch`` (only when a
gradient is asked for).

The file
--------
One graph input of rank 4, ``(N, 3, H, W)`` float32, normalised as the model
expects (the wrapper applies ``mean`` / ``std`` first); ``N`` may be dynamic
(a named or unknown dimension) or fixed (every call is then cut into chunks
of ``N`` rows, the last one padded with copies of its last row). The first
graph output is the logits, ``(N, K)``.

Preprocessing
-------------
From ``load_model("onnx:<path>", preprocessing=...)`` (a
:class:`~spectral_attribution.models.Preprocessing` or a dict with the keys
``resize``, ``crop``, ``mean``, ``std`` and optionally ``interpolation``),
else from the file's metadata: the key :data:`PREPROCESSING_KEY`
(``"spectral_attribution.preprocessing"``) holding that dict as JSON (write it
with :func:`write_preprocessing`). With neither, the model is refused, naming
what is missing; so is a file whose metadata lacks one of the four keys.

Safety
------
An ONNX file runs no Python code, but it can be huge or malformed: files
larger than :data:`MAX_ONNX_BYTES` (``$SPECTRAL_ATTRIBUTION_MAX_ONNX_BYTES``)
are refused before they are read; an empty file, an HTML page, a Git LFS
pointer or other text, and a file protobuf cannot parse (a truncated
download) are refused with one line naming the file and what it is.
Weights stored beside the graph (ONNX external data) are not supported.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Mapping

import numpy as np
import torch
from torch import nn

from spectral_attribution.models.checkpoints import _head, _text_kind
from spectral_attribution.models.errors import CheckpointError, UnsupportedModelError
from spectral_attribution.models.preprocessing import Preprocessing
from spectral_attribution.models.spec import ModelSpec
from spectral_attribution.models.wrapper import ModelWrapper

__all__ = ["PREPROCESSING_KEY", "MAX_ONNX_BYTES", "OnnxNetwork", "write_preprocessing", "max_onnx_bytes"]

PREFIX = "onnx"
PATTERN = "'onnx:<path to a .onnx file>'"

#: Metadata key (``metadata_props`` of the ONNX model) holding the preprocessing as JSON.
PREPROCESSING_KEY = "spectral_attribution.preprocessing"
#: Largest ONNX file read, in bytes (2 GiB: protobuf's own limit for one message).
MAX_ONNX_BYTES = 2 * 1024 ** 3
_REQUIRED = ("resize", "crop", "mean", "std")
_FIELDS = _REQUIRED + ("interpolation",)


def max_onnx_bytes() -> int:
    """:data:`MAX_ONNX_BYTES`, or ``$SPECTRAL_ATTRIBUTION_MAX_ONNX_BYTES`` when set (bytes)."""
    raw = os.environ.get("SPECTRAL_ATTRIBUTION_MAX_ONNX_BYTES")
    if raw is None:
        return MAX_ONNX_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"SPECTRAL_ATTRIBUTION_MAX_ONNX_BYTES must be a positive integer, got {raw!r}")
    return value


def _read_graph(path: Path):
    """The parsed ``onnx.ModelProto`` of ``path``, after the size guard and a look at its bytes."""
    import onnx

    if not path.is_file():
        raise FileNotFoundError(f"ONNX model not found: {path}")
    size = path.stat().st_size
    limit = max_onnx_bytes()
    if size > limit:
        raise CheckpointError(f"{path} is {size / 1024 ** 2:.0f} MiB, more than the "
                              f"{limit / 1024 ** 2:.0f} MiB allowed for an ONNX model; set "
                              f"SPECTRAL_ATTRIBUTION_MAX_ONNX_BYTES to read it anyway")
    if size == 0:
        raise CheckpointError(f"{path} is not an ONNX model: it is an empty file (0 bytes)")
    text = _text_kind(_head(path), size)
    if text is not None:
        raise CheckpointError(f"{path} is not an ONNX model: it is {text}")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # google.protobuf DecodeError, ...
        raise CheckpointError(f"{path} is not an ONNX model protobuf can read ({size} bytes; "
                              f"a truncated or interrupted download?): {type(exc).__name__}: "
                              f"{' '.join(str(exc).split())[:160]}") from None
    if not model.graph.node or not model.graph.output:
        raise CheckpointError(f"{path} is not an ONNX model: it parses as an empty graph "
                              f"({size} bytes; not an .onnx file, or a truncated one)")
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer):
        raise UnsupportedModelError(f"{path} keeps its weights in external data files; save the "
                                    f"model as one .onnx file (onnx.save(model, path, "
                                    f"save_as_external_data=False))")
    return model


def _dims(value_info) -> list:
    """Dimensions of a graph input/output: ints, or ``None`` for a dynamic one."""
    shape = value_info.type.tensor_type.shape
    return [d.dim_value if d.HasField("dim_value") else None for d in shape.dim]


def _preprocessing(given, metadata: Mapping[str, str], path: Path) -> Preprocessing:
    """The model's :class:`Preprocessing`: ``given``, else the file's metadata (one-line errors)."""
    if isinstance(given, Preprocessing):
        return given
    where = "preprocessing="
    if given is None:
        raw = metadata.get(PREPROCESSING_KEY)
        if raw is None:
            raise ValueError(f"onnx:{path}: no preprocessing: pass preprocessing= (a Preprocessing "
                             f"or a dict of {', '.join(_REQUIRED)}) or store it as JSON under the "
                             f"metadata key {PREPROCESSING_KEY!r} of the file")
        where = f"metadata {PREPROCESSING_KEY!r} of {path}"
        try:
            given = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where} is not JSON ({exc})") from None
    if not isinstance(given, Mapping):
        raise ValueError(f"{where} must be a dict of {', '.join(_REQUIRED)}, got {type(given).__name__}")
    missing = [k for k in _REQUIRED if k not in given]
    unknown = [k for k in given if k not in _FIELDS]
    if missing or unknown:
        raise ValueError(f"{where}: missing keys {missing}, unknown keys {unknown}; expected "
                         f"{', '.join(_REQUIRED)} (null allowed) and optionally interpolation")
    return Preprocessing(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in given.items()})


def write_preprocessing(path: str | os.PathLike, preprocessing: Preprocessing | Mapping) -> None:
    """Store ``preprocessing`` in the ONNX file ``path`` (metadata key :data:`PREPROCESSING_KEY`).

    The file is rewritten in place with its graph unchanged; any earlier
    value of that key is replaced.
    """
    import onnx

    path = Path(path)
    pre = preprocessing if isinstance(preprocessing, Preprocessing) else _preprocessing(
        preprocessing, {}, path)
    model = _read_graph(path)
    kept = [p for p in model.metadata_props if p.key != PREPROCESSING_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    entry = model.metadata_props.add()
    entry.key, entry.value = PREPROCESSING_KEY, json.dumps(pre.as_dict())
    onnx.save(model, str(path))


class OnnxNetwork(nn.Module):
    """An ONNX graph as a module: ONNX Runtime for scores, onnx2torch for gradients.

    ``forward(x)``: ``x`` ``(B, 3, H, W)`` float tensor (normalised) →
    float32 logits ``(B, K)`` on ``x``'s device. Under autograd (grad mode on
    and ``x.requires_grad``) the graph converted by ``onnx2torch`` runs
    instead, so that gradients with respect to ``x`` exist (the WAM); the
    conversion happens on first need.

    Attributes
    ----------
    path, input_name, output_name, batch (the fixed batch size or ``None``),
    native_backend (``"onnxruntime"``: the backends run this module as is).
    """

    native_backend = "onnxruntime"

    def __init__(self, path: str | os.PathLike, graph=None):
        super().__init__()
        import onnxruntime as ort

        self.path = Path(path)
        graph = graph if graph is not None else _read_graph(self.path)
        initialisers = {t.name for t in graph.graph.initializer}
        inputs = [i for i in graph.graph.input if i.name not in initialisers]
        if len(inputs) != 1:
            raise UnsupportedModelError(f"{self.path} has {len(inputs)} graph inputs "
                                        f"({[i.name for i in inputs]}); an image classifier has one")
        dims = _dims(inputs[0])
        elem = inputs[0].type.tensor_type.elem_type
        if len(dims) != 4 or dims[1] not in (None, 3):
            raise UnsupportedModelError(f"{self.path}: input {inputs[0].name!r} has shape "
                                        f"{['?' if d is None else d for d in dims]}; expected "
                                        f"(N, 3, H, W) images, channels first")
        if elem != 1:  # onnx.TensorProto.FLOAT
            raise UnsupportedModelError(f"{self.path}: input {inputs[0].name!r} is not float32 "
                                        f"(ONNX element type {elem}); export it with float32 inputs")
        self.input_name, self.output_name = inputs[0].name, graph.graph.output[0].name
        self.batch = dims[0] if dims[0] else None
        self.input_size = (dims[2], dims[3])
        self.metadata = {p.key: p.value for p in graph.metadata_props}
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(graph.SerializeToString(), options,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise CheckpointError(f"{self.path}: ONNX Runtime cannot load this graph "
                                  f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None
        self._converted: list = []  # onnx2torch module, built on first gradient request
        self._sha256: str | None = None

    def extra_repr(self) -> str:
        return f"path={str(self.path)!r}, batch={self.batch or 'dynamic'}"

    def weights_sha256(self) -> str:
        """SHA-256 of the ``.onnx`` file's bytes (its weights and graph)."""
        if self._sha256 is None:
            h = hashlib.sha256()
            with open(self.path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    h.update(block)
            self._sha256 = h.hexdigest()
        return self._sha256

    def torch_module(self) -> nn.Module:
        """The graph as a PyTorch module (``onnx2torch.convert``), eval mode, weights frozen.

        Raises
        ------
        UnsupportedModelError
            onnx2torch is not installed or cannot convert an operator (named).
        """
        if not self._converted:
            why = "the WAM needs gradients, which ONNX Runtime does not give"
            try:
                import onnx2torch
            except ImportError:
                raise UnsupportedModelError(f"{self.path}: {why}; converting the graph to PyTorch "
                                            f"needs onnx2torch (pip install onnx2torch)") from None
            import onnx

            try:
                module = onnx2torch.convert(onnx.load(str(self.path), load_external_data=False))
            except Exception as exc:
                raise UnsupportedModelError(
                    f"{self.path}: {why}, and onnx2torch cannot convert this graph to PyTorch "
                    f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None
            module.eval()
            for p in module.parameters():
                p.requires_grad_(False)
            self._converted.append(module)
        return self._converted[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and x.requires_grad:
            module = self.torch_module().to(x.device)
            return module(x.float())
        array = np.ascontiguousarray(x.detach().float().cpu().numpy())
        if self.batch is None:
            out = self._session.run([self.output_name], {self.input_name: array})[0]
        else:
            outs, b = [], self.batch
            for start in range(0, len(array), b):
                chunk = array[start:start + b]
                n = len(chunk)
                if n < b:  # pad with copies of the last row: same shape, valid inputs
                    chunk = np.concatenate([chunk, np.repeat(chunk[-1:], b - n, axis=0)])
                outs.append(self._session.run([self.output_name], {self.input_name: chunk})[0][:n])
            out = np.concatenate(outs)
        return torch.from_numpy(np.asarray(out, dtype=np.float32)).to(x.device)


def _build_onnx(spec: ModelSpec, preprocessing: Preprocessing | Mapping | None = None,
                class_names=None, **_) -> ModelWrapper:
    path = Path(spec.options["path"]).expanduser()
    graph = _read_graph(path)
    metadata = {p.key: p.value for p in graph.metadata_props}
    pre = _preprocessing(preprocessing, metadata, path)
    network = OnnxNetwork(path, graph)
    h, w = network.input_size
    side = pre.crop
    if side is not None and ((h is not None and h != side) or (w is not None and w != side)):
        raise ValueError(f"{path}: the graph takes {h} x {w} images but the preprocessing crops "
                         f"{side} x {side}; give the crop the graph was exported with")
    check = side or (h if h is not None and h == w else None)
    return ModelWrapper(network, pre, name=spec.name, class_names=class_names, source=str(path),
                        check_size=check)


def builtin_specs() -> list[ModelSpec]:
    return []


def dynamic_spec(rest: str, name: str) -> ModelSpec:
    """``onnx:<path>`` (the path may itself hold colons)."""
    return ModelSpec(name=name, builder=_build_onnx, preprocessing=Preprocessing(),
                     weights=f"ONNX file {rest}", description=f"ONNX model {rest} (ONNX Runtime)",
                     options={"path": rest}, family="onnx")
