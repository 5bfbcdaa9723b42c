"""State-dict layouts: research checkpoints brought to a network's keys, then a strict load.

State dicts are adapted from the common research layouts before a strict load
(:func:`adapt_state_dict`): ``DataParallel`` / ``torch.compile`` prefixes, a
wrapper's ``model.`` prefix, RobustBench's ``normalize.*`` buffers, the MadryLab
robustness library's ``model.`` / ``attacker.model.`` / ``normalizer.*`` layout,
torchvision's legacy DenseNet names and pre-0.4.1 batch-norm layers without
``num_batches_tracked``. Anything else is refused naming its keys.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import nn

from spectral_attribution.models.errors import CheckpointMismatchError

__all__ = ["strip_prefixes", "adapt_state_dict"]



def strip_prefixes(state: Mapping[str, Any],
                   prefixes: Sequence[str] = ("module.", "model.", "_orig_mod.")) -> dict[str, Any]:
    """Remove wrapper prefixes from state-dict keys.

    ``module.`` (``DataParallel``/DDP), ``model.`` (wrapper modules such as
    RobustBench's normaliser) and ``_orig_mod.`` (``torch.compile``) are
    removed from the start of each key, repeatedly, so
    ``module.model.conv1.weight`` becomes ``conv1.weight``. Values are
    untouched. (The loaders use :func:`adapt_state_dict`, which knows which
    prefix belongs to which layout.)

    Raises
    ------
    CheckpointMismatchError
        Two keys collapse to the same key.
    """
    def strip(key: str) -> str:
        return _strip_repeated(key, prefixes)

    return dict(_rekey(state, strip, what=f"after stripping prefixes {list(prefixes)}"))


def _rekey(state: Mapping[str, Any], fn: Callable[[str], str | None], what: str = "") -> OrderedDict:
    """``{fn(k): v}`` dropping keys mapped to ``None``; carries ``_metadata`` (module versions).

    torch's ``load_state_dict`` reads each module's saved version from
    ``state._metadata`` to migrate old layouts (e.g. batch norm before
    ``num_batches_tracked``); its keys are module prefixes, renamed by the
    same ``fn``.
    """
    out = OrderedDict()
    for key, value in state.items():
        new = fn(key)
        if new is None:
            continue
        if new in out:
            raise CheckpointMismatchError(f"keys {key!r} and another collapse to {new!r} {what}".rstrip())
        out[new] = value
    meta = getattr(state, "_metadata", None)
    if meta is not None:
        out._metadata = OrderedDict()
        for prefix, value in meta.items():
            new = fn(f"{prefix}.") if prefix else ""
            if new is not None:
                out._metadata.setdefault(new[:-1] if new.endswith(".") else new, value)
    return out


def _few(keys: Sequence[str], n: int = 5) -> str:
    return f"{len(keys)} ({', '.join(keys[:n])}{', ...' if len(keys) > n else ''})"


def _state_dict_of(obj: Any, path: Path | str) -> OrderedDict:
    """The state dict in a loaded checkpoint: the object itself or its
    ``state_dict`` / ``model_state_dict`` / ``model`` / ``net`` entry."""
    for key in ("state_dict", "model_state_dict", "model", "net"):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    if not isinstance(obj, Mapping):
        raise CheckpointMismatchError(f"{path} holds a {type(obj).__qualname__}, not a state dict "
                                      f"(nor a dict holding one under 'state_dict', "
                                      f"'model_state_dict', 'model' or 'net')")
    bad = [str(k) for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointMismatchError(f"{path}: not a state dict of tensors; entries that are not "
                                      f"tensors: {_few(bad)}")
    out = OrderedDict(obj)
    if getattr(obj, "_metadata", None) is not None:
        out._metadata = obj._metadata
    return out


_WRAPPER_PREFIXES = ("module.", "_orig_mod.")  # DataParallel / DDP, torch.compile
# torchvision's published DenseNet files name the layers of a dense layer
# 'norm.1', 'conv.2', ... where the modules are now 'norm1', 'conv2', ...
_DENSENET_LEGACY = re.compile(r"(\bdenselayer\d+\.(?:norm|relu|conv))\.([12])\.")


def _strip_repeated(key: str, prefixes) -> str:
    """``key`` without any of ``prefixes``, removed repeatedly from its start (``module.model.x`` → ``x``)."""
    changed = True
    while changed:
        changed = False
        for p in prefixes:
            if key.startswith(p):
                key, changed = key[len(p):], True
    return key


def _strip_wrappers(key: str) -> str:
    return _strip_repeated(key, _WRAPPER_PREFIXES)


def _robustness_layout(state: OrderedDict, path) -> tuple[OrderedDict, tuple | None]:
    """MadryLab robustness library's ``AttackerModel``: ``model.*``, ``attacker.model.*``,
    ``normalizer.new_mean/new_std``, ``attacker.normalize.new_mean/new_std``.

    ``attacker.model`` is the same module as ``model`` in that class, so its
    tensors must equal the ``model.*`` ones: they are checked, then dropped.
    """
    model = {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}
    buffers = {f"{m}.{b}" for m in ("normalizer", "attacker.normalize") for b in ("new_mean", "new_std")}
    unknown = [k for k in state if not (k.startswith(("model.", "attacker.model.")) or k in buffers)]
    differ = [k for k, v in state.items() if k.startswith("attacker.model.")
              and not (k[len("attacker.model."):] in model
                       and _same(model[k[len("attacker.model."):]], v))]
    for a, b in (("attacker.normalize.new_mean", "normalizer.new_mean"),
                 ("attacker.normalize.new_std", "normalizer.new_std")):
        if a in state and not (b in state and _same(state[a], state[b])):
            differ.append(a)
    if not model or unknown or differ:
        raise CheckpointMismatchError(
            f"{path} looks like a robustness-library (MadryLab) checkpoint but does not follow its "
            f"layout: {len(model)} 'model.*' keys; unknown keys {_few(unknown)}; 'attacker.*' "
            f"entries that differ from (or lack) their 'model.*' / 'normalizer.*' twin {_few(differ)}")
    normaliser = None
    if "normalizer.new_mean" in state and "normalizer.new_std" in state:
        normaliser = (state["normalizer.new_mean"], state["normalizer.new_std"])
    return _rekey(state, lambda k: k[len("model."):] if k.startswith("model.") else None), normaliser


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a, b))


def adapt_state_dict(state: Mapping[str, torch.Tensor], network: nn.Module,
                     path: str | os.PathLike = "<state dict>") -> tuple[OrderedDict, tuple | None, str]:
    """Bring a state dict saved in a known research layout to ``network``'s keys.

    Layouts recognised, in this order:

    1. Wrapper prefixes on every key: ``module.`` (``DataParallel``, DDP) and
       ``_orig_mod.`` (``torch.compile``) are removed.
    2. MadryLab robustness library (``robustness.model_utils.AttackerModel``,
       e.g. Engstrom et al. 2019, Salman et al. 2020): keys ``model.*``,
       ``attacker.model.*``, ``normalizer.new_mean/new_std``,
       ``attacker.normalize.new_mean/new_std``. The ``model.*`` branch is
       kept; ``attacker.model.*`` must equal it tensor for tensor (the
       library saves the same module twice) and is dropped; the normaliser's
       buffers are returned.
    3. RobustBench ``normalize_model``: ``normalize.mean/std`` plus the
       network's keys; the buffers are returned.
    4. A wrapper module's ``model.`` prefix on every key, when ``network``
       has no ``model`` submodule.

    Steps 2 and 3 apply only when ``network`` has no such keys itself.
    5. torchvision's legacy DenseNet names (``norm.1`` for ``norm1``).

    Parameters
    ----------
    state:
        Keys to tensors (a loaded checkpoint's state dict).
    network:
        The module that will receive the weights (its keys decide step 4).
    path:
        The file, for messages.

    Returns
    -------
    (state, normaliser, layout)
        The adapted state dict (``_metadata`` carried over, so that torch's
        own migrations run in ``load_state_dict``), ``(mean, std)`` tensors
        of a normaliser saved in the file (``None`` if none), and the layout's
        name.

    Raises
    ------
    CheckpointMismatchError
        A robustness-library layout whose twins differ or that holds unknown
        keys, or keys that collapse onto each other.
    """
    state = _rekey(state, _strip_wrappers, what="after removing DataParallel/torch.compile prefixes")
    own = network.state_dict()
    layout, normaliser = "plain", None
    # (a network that itself has such submodules takes its keys as they are)
    if (any(k.startswith(("attacker.", "normalizer.")) for k in state)
            and not any(k.startswith(("attacker.", "normalizer.")) for k in own)):
        layout = "robustness library"
        state, normaliser = _robustness_layout(state, path)
    elif ("normalize.mean" in state or "normalize.std" in state) and "normalize.mean" not in own:
        layout = "RobustBench normalize_model"
        if not ("normalize.mean" in state and "normalize.std" in state):
            raise CheckpointMismatchError(f"{path}: a RobustBench-style normaliser needs both "
                                          f"'normalize.mean' and 'normalize.std'")
        normaliser = (state["normalize.mean"], state["normalize.std"])
        state = _rekey(state, lambda k: None if k.startswith("normalize.") else k)
    if (state and all(k.startswith("model.") for k in state)
            and not any(k.startswith("model.") for k in own)):
        layout = "model. wrapper" if layout == "plain" else layout
        state = _rekey(state, lambda k: k[len("model."):] if k.startswith("model.") else k)
    legacy = {k for k in state if _DENSENET_LEGACY.search(k)}
    if legacy and not legacy & set(own):
        state = _rekey(state, lambda k: _DENSENET_LEGACY.sub(r"\1\2.", k))
        layout += " (legacy DenseNet names)"
    return state, normaliser, layout


def _check_normaliser(found: tuple | None, mean, std, path, where: str) -> None:
    """Refuse a normaliser saved in the checkpoint that contradicts ``mean`` / ``std``."""
    if found is None:
        return
    saved = tuple(tuple(float(x) for x in t.flatten()) for t in found)
    if mean is None or std is None:
        raise CheckpointMismatchError(
            f"{path} normalises its inputs with mean {saved[0]} and std {saved[1]}, but {where} "
            f"has no mean/std: give them (or leave the preprocessing to the checkpoint)")
    expected = (tuple(float(x) for x in mean), tuple(float(x) for x in std))
    if any(len(a) != len(b) or any(abs(x - y) > 1e-5 for x, y in zip(a, b))
           for a, b in zip(saved, expected)):
        raise CheckpointMismatchError(
            f"{path} normalises its inputs with mean {saved[0]} and std {saved[1]}, which "
            f"contradicts {where}: mean {expected[0]}, std {expected[1]}")


def _load_strict(network: nn.Module, state: Mapping[str, torch.Tensor], path: Path | str,
                 layout: str = "") -> None:
    """``load_state_dict(strict=True)`` with an error that names file, keys and shapes.

    Our check leaves out missing ``*.num_batches_tracked`` buffers: torch's
    batch-norm migration decides on them (pre-0.4.1 state dicts lack them;
    torch adds them when the module version saved in ``_metadata`` is old or
    absent).
    """
    own = network.state_dict()
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in state if k in own and tuple(state[k].shape) != tuple(own[k].shape)]
    where = f"checkpoint {path}{f' ({layout} layout)' if layout else ''}"
    if missing or unexpected or shapes:
        raise CheckpointMismatchError(
            f"{where} does not fit {type(network).__name__}: missing keys {_few(missing)}; "
            f"unexpected keys {_few(unexpected)}; shape mismatches {_few(shapes)}")
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointMismatchError(f"{where}: torch refuses it: {' '.join(str(exc).split())}") from None


def _load_weights(network: nn.Module, obj: Any, path: Path | str) -> tuple | None:
    """State dict of ``obj`` → :func:`adapt_state_dict` → strict load; returns the saved normaliser."""
    state, normaliser, layout = adapt_state_dict(_state_dict_of(obj, path), network, path)
    _load_strict(network, state, path, layout)
    return normaliser
