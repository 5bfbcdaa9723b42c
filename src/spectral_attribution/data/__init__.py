"""Image sources: decoding to RGB, tidy sample tables, seeded sampling, downloads.

A subpackage of modules, each documented on its own:

==============================================  ===============================================
module                                          what
==============================================  ===============================================
:mod:`~spectral_attribution.data.decoding`      :func:`load_image` (any PIL mode → 8-bit RGB,
                                                EXIF orientation), :class:`ImageDecodeError`,
                                                size guards (:data:`LIMITS`,
                                                :func:`check_image_size`)
:mod:`~spectral_attribution.data.classes`       the 1000 ImageNet-1k WordNet ids (data file
                                                ``wnids.txt``), :func:`wnid_to_index`,
                                                :func:`imagenet_class_names`
:mod:`~spectral_attribution.data.samples`       sample tables (``image_id, path, label,
                                                class_name``): :func:`embedded_samples`,
                                                :func:`labelled_folder`
:mod:`~spectral_attribution.data.sampling`      :func:`check_images`, :func:`sample_images`,
                                                :func:`sample_good_images`
:mod:`~spectral_attribution.data.downloads`     :func:`download` (resumable, verified, atomic),
                                                :func:`file_hash`
:mod:`~spectral_attribution.data.imagenet`      :func:`imagenet_val` (the ILSVRC2012 validation
                                                archives as a sample table)
:mod:`~spectral_attribution.data.sources`       :func:`prepare_source`, the workflow's entry point;
                                                :func:`check_source`, its start-up checks
:mod:`~spectral_attribution.data.ids`           image ids: :func:`image_id`, :func:`path_of_id`
                                                (lossless, scheme :data:`IMAGE_ID_SCHEME`)
==============================================  ===============================================

Every public name is re-exported here: ``from spectral_attribution import data;
data.load_image(path)``.
"""

from spectral_attribution.data.classes import IMAGENET_WNIDS, NUM_CLASSES, imagenet_class_names, wnid_to_index
from spectral_attribution.data.decoding import (
    IMAGE_EXTENSIONS,
    LIMITS,
    ImageDecodeError,
    ImageSizeError,
    SizeLimits,
    check_image_size,
    load_image,
)
from spectral_attribution.data.downloads import (
    CREDENTIALS_ENV,
    ChecksumError,
    DownloadError,
    download,
    file_hash,
)
from spectral_attribution.data.ids import IMAGE_ID_SCHEME, ImageIdCollision, image_id, path_of_id
from spectral_attribution.data.imagenet import IMAGENET_BASE_URL, IMAGENET_VAL_ARCHIVES, imagenet_val
from spectral_attribution.data.samples import EMBEDDED_IMAGES, SAMPLE_COLUMNS, embedded_samples, labelled_folder
from spectral_attribution.data.sampling import check_images, sample_good_images, sample_images
from spectral_attribution.data.sources import check_source, prepare_source

__all__ = [
    "ImageDecodeError",
    "ImageSizeError",
    "SizeLimits",
    "LIMITS",
    "check_image_size",
    "ChecksumError",
    "DownloadError",
    "SAMPLE_COLUMNS",
    "IMAGE_EXTENSIONS",
    "NUM_CLASSES",
    "IMAGENET_WNIDS",
    "IMAGENET_VAL_ARCHIVES",
    "IMAGENET_BASE_URL",
    "CREDENTIALS_ENV",
    "EMBEDDED_IMAGES",
    "imagenet_class_names",
    "wnid_to_index",
    "load_image",
    "embedded_samples",
    "labelled_folder",
    "check_images",
    "sample_images",
    "sample_good_images",
    "download",
    "file_hash",
    "imagenet_val",
    "prepare_source",
    "check_source",
    "IMAGE_ID_SCHEME",
    "ImageIdCollision",
    "image_id",
    "path_of_id",
]
