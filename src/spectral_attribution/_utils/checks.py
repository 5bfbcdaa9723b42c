"""Small checks shared by every layer: image lists, id lists, byte counts, mapping keys, progress bars."""

from __future__ import annotations

from typing import Mapping, Sequence


def as_image_list(images) -> list:
    """``(B, 3, H, W)`` tensor or sequence of ``(3, H, W)`` tensors → list of ``(3, H, W)`` tensors.

    Raises
    ------
    ValueError
        A tensor of the wrong number of dimensions (its shape is given).
    """
    import torch

    if isinstance(images, torch.Tensor):
        if images.ndim == 3:
            images = images.unsqueeze(0)
        if images.ndim != 4:
            raise ValueError(f"images must be (B, 3, H, W), got shape {tuple(images.shape)}")
        return list(images)
    out = [torch.as_tensor(x) for x in images]
    for x in out:
        if x.ndim != 3:
            raise ValueError(f"each image must be (3, H, W), got shape {tuple(x.shape)}")
    return out


def format_bytes(nbytes: float) -> str:
    """``"480 KiB"``, ``"3.2 MiB"``, ``"6.1 GiB"``: a memory size for people (binary units)."""
    for unit, scale in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if nbytes >= scale:
            value = nbytes / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{int(nbytes)} bytes"


def check_ids(image_ids: Sequence, count: int, what: str = "images") -> list[str]:
    """``image_ids`` as strings; ``ValueError`` unless there is one per ``count`` items."""
    ids = [str(i) for i in image_ids]
    if len(ids) != count:
        raise ValueError(f"got {len(ids)} image_ids for {count} {what}")
    return ids


def progress_bar(iterable, show, desc: str, total=None, unit: str = "images"):
    """``iterable``, reported by :func:`spectral_attribution._utils.progress.track` when ``show`` allows.

    ``show``: ``False`` nothing; ``None`` a bar on a terminal only; ``True``
    a bar on a terminal and log lines elsewhere (every 10 % or 30 s). Each
    item's work runs inside ``progress.task("image k of N")``.
    """
    if show is False:
        return iterable
    from spectral_attribution._utils.progress import track

    return track(iterable, show, desc, total=total, unit=unit, label_items=True)


def mapping_get(mapping: Mapping, key: str, what: str):
    """``mapping[key]``, or a ``KeyError`` naming ``what`` and the keys present."""
    try:
        return mapping[key]
    except KeyError:
        raise KeyError(f"{what}: missing {key!r} (given: {sorted(mapping)})") from None
