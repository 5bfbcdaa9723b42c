"""Decoding image files into 8-bit RGB :class:`PIL.Image.Image` objects.

:func:`load_image` is the one way the package reads an image file: every
mode PIL knows is converted to RGB (greyscale replicated, transparency
composited on white, 16-bit scaled to 8 bits, floats scaled or clipped) and
the EXIF orientation is applied. A file that cannot be decoded raises
:class:`ImageDecodeError` naming it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["ImageDecodeError", "IMAGE_EXTENSIONS", "load_image"]

#: File name endings read as images by :func:`~spectral_attribution.data.labelled_folder`
#: (case-insensitive).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


class ImageDecodeError(ValueError):
    """An image file could not be decoded; the message names the file(s)."""


def _sixteen_bit_to_8(image: Image.Image) -> Image.Image:
    # PIL's convert("L") on I;16 clips at 255 instead of scaling: do it by hand,
    # rounding 0..65535 onto 0..255 (65535 -> 255, 32768 -> 128).
    a = np.asarray(image, dtype=np.int64)
    a = np.clip(a, 0, 65535)
    a8 = ((a * 255 + 32767) // 65535).astype(np.uint8)
    return Image.fromarray(a8, mode="L") if a8.ndim == 2 else Image.fromarray(a8)


def _composite_on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def load_image(path: str | os.PathLike) -> Image.Image:
    """Decode an image file fully into an 8-bit RGB :class:`PIL.Image.Image`.

    Conversions (the returned image is always mode ``"RGB"``, ``uint8``
    ``0..255``, with the file's EXIF orientation applied by
    :func:`PIL.ImageOps.exif_transpose`, so its size may be transposed):

    * ``1``, ``L``, ``CMYK``, ``YCbCr``, ``P`` without transparency: PIL's
      ``convert("RGB")`` (greyscale replicated on the three channels).
    * ``RGBA``, ``LA``, ``PA``, ``La``, ``RGBa`` and ``P`` with a transparency
      key: **composited on a white background** (transparent pixels hold
      arbitrary colours, which dropping alpha would expose).
    * ``I;16``/``I;16L``/``I;16B``/``I`` (16-bit): scaled ``0..65535 →
      0..255`` with rounding (PIL's own conversion would clip at 255).
    * ``F`` (float): values in ``[0, 1]`` are scaled by 255, others clipped to
      ``0..255``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ImageDecodeError
        The file is not a decodable image (unknown format, truncated data,
        decompression bomb, unsupported mode); the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    try:
        with Image.open(path) as im:
            im.load()  # full decode now: truncated files fail here, not later
            image = ImageOps.exif_transpose(im)
            if image is im:
                image = im.copy()
        mode = image.mode
        if mode == "RGB":
            return image
        if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
            return _sixteen_bit_to_8(image).convert("RGB")
        if mode == "F":
            a = np.asarray(image, dtype=np.float64)
            if np.nanmax(a) <= 1.0:
                a = a * 255.0
            a = np.clip(np.nan_to_num(a), 0, 255).round().astype(np.uint8)
            return Image.fromarray(a, mode="L").convert("RGB")
        if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
                mode == "P" and "transparency" in image.info):
            return _composite_on_white(image)
        return image.convert("RGB")
    except ImageDecodeError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"cannot decode image file {path}: {type(exc).__name__}: {exc}") from exc
