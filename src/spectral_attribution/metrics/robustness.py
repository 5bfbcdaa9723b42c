"""Robustness of a prediction: the share of corrupted copies of an image on
which the model predicts what it predicts on the clean image (METHOD.md, section 4).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "robustness",
]


def robustness(clean_pred, corrupted_preds) -> float:
    """Share of corrupted copies on which the prediction equals the clean one.

    Parameters
    ----------
    clean_pred:
        Class predicted on the clean image (int).
    corrupted_preds:
        Classes predicted on its corrupted copies (sequence or array of ints).

    Returns
    -------
    float
        In ``[0, 1]`` (1: the prediction never changes).

    Raises
    ------
    ValueError
        No corrupted prediction given.
    """
    preds = np.asarray(corrupted_preds).ravel()
    if preds.size == 0:
        raise ValueError("robustness needs at least one corrupted prediction")
    return float(np.mean(preds == int(clean_pred)))
