"""The 1000 ImageNet-1k classes: WordNet ids, class indices and names.

Class indices follow the standard ImageNet-1k convention: the index of a
WordNet id in the *sorted* list of the 1000 ILSVRC2012 synsets
(:data:`IMAGENET_WNIDS`, read from the data file ``wnids.txt`` beside this
module; identical to the ordering of torchvision's ``ImageFolder`` on the
full train set, of timm's ``imagenet_synsets.txt`` and of RobustBench's
``imagenet_class_to_id_map.json``, checked in ``tests/data/test_data.py``).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

__all__ = ["NUM_CLASSES", "IMAGENET_WNIDS", "wnid_to_index", "imagenet_class_names"]

NUM_CLASSES = 1000


def _read_wnids() -> tuple[str, ...]:
    text = resources.files(__package__).joinpath("wnids.txt").read_text(encoding="ascii")
    wnids = tuple(text.split())
    if len(wnids) != NUM_CLASSES or list(wnids) != sorted(wnids):
        raise RuntimeError(f"{__package__}/wnids.txt must list the {NUM_CLASSES} ImageNet-1k WordNet "
                           f"ids in sorted order (it has {len(wnids)}); reinstall the package")
    return wnids


#: The 1000 ImageNet-1k WordNet ids, sorted; ``IMAGENET_WNIDS[i]`` is class ``i``.
IMAGENET_WNIDS: tuple[str, ...] = _read_wnids()


@lru_cache(maxsize=1)
def _wnid_index() -> dict[str, int]:
    return {w: i for i, w in enumerate(IMAGENET_WNIDS)}


def wnid_to_index(wnid: str) -> int:
    """ImageNet-1k class index ``0..999`` of a WordNet id such as ``"n01440764"``.

    Raises ``KeyError`` naming the id when it is not one of the 1000 classes.
    """
    try:
        return _wnid_index()[wnid]
    except KeyError:
        raise KeyError(f"{wnid!r} is not one of the 1000 ImageNet-1k WordNet ids") from None


@lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet class names, index-aligned (torchvision's weights metadata).

    Returns a tuple of 1000 ``str`` (``imagenet_class_names()[281] == "tabby"``).
    """
    from torchvision.models import ResNet50_Weights

    names = tuple(ResNet50_Weights.IMAGENET1K_V2.meta["categories"])
    assert len(names) == NUM_CLASSES
    return names
