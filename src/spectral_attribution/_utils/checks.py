"""Small checks shared by every layer: image lists, id lists, byte counts, mapping keys, progress bars."""

from __future__ import annotations

from typing import Mapping, Sequence


#: Channel counts an image tensor may have: grey and RGB (every model of the registry takes RGB).
IMAGE_CHANNELS: tuple[int, ...] = (1, 3)


def check_images(images, name: str = "images", channels: tuple[int, ...] | int | None = None,
                 pixel_range: bool = False, single: str = "allow"):
    """The one check of an image tensor's layout: ``(N, C, H, W)``, or one ``(C, H, W)``.

    Every public entry that takes image tensors (the explainers' common entry,
    the WAM, the perturbations' ``prepare``, the wavelet transform, the
    studies) calls it, so a tensor in the wrong layout is refused before any
    work with one line naming its shape and the expected layout.

    Parameters
    ----------
    images:
        A ``torch.Tensor`` (or anything ``torch.as_tensor`` takes).
    name:
        How the message names the argument.
    channels:
        The accepted channel counts ``C`` (an int or a tuple); default
        :data:`IMAGE_CHANNELS` ``(1, 3)``.
    pixel_range:
        Also require a floating dtype and values in ``[0, 1]`` (1e-3
        tolerance): pixel values before the model's normalisation.
    single:
        ``"allow"``: a 3-D ``(C, H, W)`` tensor is one image and is returned
        as ``(1, C, H, W)``; ``"only"``: exactly one ``(C, H, W)`` image is
        expected and returned as is.

    Returns
    -------
    torch.Tensor
        ``(N, C, H, W)`` (``(C, H, W)`` with ``single="only"``), the input's
        dtype and device, not copied.

    Raises
    ------
    ValueError
        A wrong number of dimensions; a channel axis that is not where the
        layout puts it, e.g. ``images has shape (1, 64, 64, 3): channels last
        (N, H, W, C); expected (N, C, H, W) with C in (1, 3) (channels first:
        x.permute(0, 3, 1, 2))``; an empty batch or image; with
        ``pixel_range``, an integer dtype or values outside ``[0, 1]``.
    """
    import torch

    allowed = (IMAGE_CHANNELS if channels is None else
               (int(channels),) if isinstance(channels, int) else tuple(int(c) for c in channels))
    x = images if isinstance(images, torch.Tensor) else torch.as_tensor(images)
    shape = tuple(x.shape)
    if single == "only":
        layout, ndims, perm = "(C, H, W)", (3,), "x.permute(2, 0, 1)"
    else:
        layout, ndims, perm = "(N, C, H, W)", (3, 4), "x.permute(0, 3, 1, 2)"
    accepted = f"C in {allowed}" if len(allowed) > 1 else f"C = {allowed[0]}"
    if x.ndim not in ndims:
        also = " or one (C, H, W) image" if single == "allow" else ""
        raise ValueError(f"{name} has shape {shape} ({x.ndim} dimensions); expected {layout}"
                         f"{also} with {accepted}")
    c = shape[-3]
    if c not in allowed:
        if shape[-1] in allowed:
            last = "(H, W, C)" if x.ndim == 3 else "(N, H, W, C)"
            if x.ndim == 3 and single == "allow":
                perm = "x.permute(2, 0, 1)"
            raise ValueError(f"{name} has shape {shape}: channels last {last}; expected "
                             f"{layout if x.ndim == 4 or single == 'only' else '(C, H, W)'} with "
                             f"{accepted} (channels first: {perm})")
        raise ValueError(f"{name} has shape {shape}: {c} channels on the channel axis; expected "
                         f"{layout} with {accepted}")
    if x.numel() == 0:
        raise ValueError(f"{name} has shape {shape}: no pixels")
    if pixel_range:
        if not x.is_floating_point():
            raise ValueError(f"{name} must be a float tensor of pixel values in [0, 1], got "
                             f"{x.dtype} {shape} (convert with x.float() / 255)")
        lo, hi = float(x.min()), float(x.max())
        if not (lo >= -1e-3 and hi <= 1 + 1e-3):  # NaN fails too
            raise ValueError(f"{name} must be pixel values in [0, 1] (before normalisation); "
                             f"got range [{lo:.3g}, {hi:.3g}]")
    if x.ndim == 3 and single == "allow":
        x = x.unsqueeze(0)
    return x


def as_image_list(images, name: str = "images") -> list:
    """``(B, C, H, W)`` tensor or sequence of ``(C, H, W)`` tensors → list of ``(C, H, W)`` tensors.

    Each is checked by :func:`check_images` (layout and channels).

    Raises
    ------
    ValueError
        A tensor of the wrong number of dimensions or in the wrong layout (its shape is given).
    """
    import torch

    if isinstance(images, torch.Tensor):
        return list(check_images(images, name))
    return [check_images(x, f"{name}[{k}]", single="only") for k, x in enumerate(images)]


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
