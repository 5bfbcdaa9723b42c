"""Decoding image files into 8-bit RGB :class:`PIL.Image.Image` objects.

:func:`load_image` is the one way the package reads an image file: every
mode PIL knows is converted to RGB (greyscale replicated, transparency
composited on white, 16-bit scaled to 8 bits, floats scaled or clipped) and
the EXIF orientation is applied. A file that cannot be decoded raises
:class:`ImageDecodeError` naming it.

Size guards
-----------
Every array the package allocates for an image follows from the image's size:
the decoded pixels, the resized image (the shorter side goes to the model's
``resize``, at most 512 px in the registry, so the longer side grows with the
aspect ratio), the padded wavelet layout, the engine's batches. An image
outside the bounds of :data:`LIMITS` is refused by :func:`check_image_size`
from its header alone, before any pixel is decoded, with an
:class:`ImageSizeError` naming the file and the limit:

* at most ``max_pixels`` pixels (PIL's own decompression-bomb threshold,
  ``PIL.Image.MAX_IMAGE_PIXELS``, about 89.5 million; PIL only warns between
  this and twice it);
* an aspect ratio (longer side / shorter side) of at most ``max_aspect``
  (50: a 512-px shorter side then gives at most 512 x 25,600 pixels after
  resizing, 157 MB in float32);
* at least ``min_side`` pixels on each side (2: an image one pixel wide
  has no 2-D structure; resized up to a model's input, a 1 x 1 image is a
  uniform image whose explanation is all zeros).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["ImageDecodeError", "ImageSizeError", "SizeLimits", "LIMITS", "IMAGE_EXTENSIONS",
           "check_image_size", "load_image"]

#: File name endings read as images by :func:`~spectral_attribution.data.labelled_folder`
#: (case-insensitive).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


class ImageDecodeError(ValueError):
    """An image file could not be decoded; the message names the file(s)."""


class ImageSizeError(ImageDecodeError):
    """An image's size is outside :data:`LIMITS`; the message names the file, its size and the limit."""


@dataclass(frozen=True)
class SizeLimits:
    """Bounds on the size of an input image (see the module docstring for why each).

    Attributes
    ----------
    max_pixels:
        Largest ``width * height``.
    max_aspect:
        Largest ``max(width, height) / min(width, height)``.
    min_side:
        Smallest ``min(width, height)``, in pixels.
    """

    max_pixels: int = int(Image.MAX_IMAGE_PIXELS or 89_478_485)
    max_aspect: float = 50.0
    min_side: int = 2


#: The bounds every image read by :func:`load_image` is checked against.
LIMITS = SizeLimits()


def check_image_size(width: int, height: int, path: str | os.PathLike = "image",
                     limits: SizeLimits = LIMITS) -> None:
    """Refuse a ``width x height`` image outside ``limits`` (before decoding it).

    Raises
    ------
    ImageSizeError
        Naming ``path``, its size and the bound it breaks.
    """
    width, height = int(width), int(height)
    size = f"{width} x {height} pixels"
    if width * height > limits.max_pixels:
        raise ImageSizeError(f"image file {path} is {size} ({width * height:,} pixels): more than "
                             f"the limit of {limits.max_pixels:,} pixels (PIL's decompression-bomb "
                             f"threshold); resize it first")
    if min(width, height) < limits.min_side:
        raise ImageSizeError(f"image file {path} is {size}: a side is shorter than the minimum of "
                             f"{limits.min_side} pixels")
    aspect = max(width, height) / min(width, height)
    if aspect > limits.max_aspect:
        raise ImageSizeError(f"image file {path} is {size}: aspect ratio {aspect:,.0f}:1 exceeds "
                             f"the limit of {limits.max_aspect:g}:1 (resizing its shorter side to "
                             f"a model's input size would allocate an image {aspect:,.0f} times "
                             f"longer); crop it first")


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


def load_image(path: str | os.PathLike, limits: SizeLimits = LIMITS) -> Image.Image:
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

    ``limits`` bounds the size declared in the file's header (default
    :data:`LIMITS`, see the module docstring).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    IsADirectoryError
        ``path`` is a folder.
    ImageDecodeError
        The file is not a decodable image (unknown format, truncated data,
        decompression bomb, unsupported mode); the message names the file.
    ImageSizeError
        (an ``ImageDecodeError``) Its header declares a size outside
        :data:`LIMITS` (:func:`check_image_size`); nothing is decoded.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not an image file")
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    try:
        with warnings.catch_warnings():
            # PIL warns between its threshold and twice it; check_image_size refuses instead
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
        with im:
            check_image_size(*im.size, path, limits)  # from the header: before any pixel is decoded
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
    except Image.DecompressionBombError as exc:  # raised by Image.open beyond twice PIL's threshold
        raise ImageSizeError(f"image file {path} declares more pixels than the limit of "
                             f"{limits.max_pixels:,} (PIL: {exc})") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"cannot decode image file {path}: {type(exc).__name__}: {exc}") from exc
