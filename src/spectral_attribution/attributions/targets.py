"""The target policy: which class an image's explanation, and every metric of it, is about.

One policy governs the class a WCAM explains, the class its reconstruction
depth is scored against and the class of every other metric of the image:
the studies read the class from the explanation itself
(:attr:`Explanation.target <spectral_attribution.attributions.explanation.Explanation.target>`),
so an explanation and its metrics cannot disagree. The policy only decides
which class the explanation explains:

``"prediction"`` (default)
    the model's prediction on the image explained: for a corrupted copy,
    its prediction on the corrupted copy (the paper's question: what the
    model relies on when it changes its mind; METHOD.md, section 4, scores
    a corrupted copy's reconstruction against that prediction);
``"label"``
    the ground-truth label (for a corrupted copy, its clean image's label);
    where the label is unknown (``-1``), the prediction.

Each image records where its class came from, its *target source*
(:data:`TARGET_SOURCES`): ``"prediction"``, ``"label"``, or
``"prediction_fallback"`` (policy ``label``, label unknown). Explanations made
outside a policy (a class given by hand) read ``"given"``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from spectral_attribution._utils.parameters import check_labels

__all__ = [
    "TARGET_POLICIES",
    "TARGET_SOURCES",
    "check_target_policy",
    "explained_classes",
    "explain_with_policy",
    "record_target",
    "target_source_of",
]

#: The values of the policy (configuration key ``target_policy``).
TARGET_POLICIES: tuple[str, ...] = ("prediction", "label")
#: Where an image's explained class came from.
TARGET_SOURCES: tuple[str, ...] = ("prediction", "label", "prediction_fallback", "given")


def check_target_policy(policy: str) -> str:
    """Return ``policy`` if it is one of :data:`TARGET_POLICIES`, else raise ``ValueError`` naming it."""
    if policy not in TARGET_POLICIES:
        hint = " ('predicted' is now spelled 'prediction')" if policy == "predicted" else ""
        raise ValueError(f"target policy must be one of {list(TARGET_POLICIES)}, got {policy!r}{hint}")
    return policy


def _labels(labels, count: int) -> np.ndarray:
    # the package's rule for table labels (-1 / None / NaN unknown; integers only)
    return np.asarray(check_labels(labels, count), dtype=np.int64)


def explained_classes(policy: str, predictions: Sequence[int], labels: Sequence[int] | None = None
                      ) -> tuple[np.ndarray, list[str]]:
    """The class each image's explanation explains, and its target source.

    Parameters
    ----------
    policy:
        ``"prediction"`` or ``"label"`` (:data:`TARGET_POLICIES`).
    predictions:
        The model's prediction on each image explained (ints).
    labels:
        Ground-truth labels, ``-1`` / ``None`` / NaN where unknown; ``None``:
        all unknown.

    Returns
    -------
    (numpy.ndarray, list[str])
        ``int64`` classes ``(N,)`` and one source per image
        (``"prediction"``, ``"label"`` or ``"prediction_fallback"``).

    Raises
    ------
    ValueError
        Unknown policy, or as many labels as predictions not given.
    """
    check_target_policy(policy)
    pred = np.asarray(predictions, dtype=np.int64).reshape(-1)
    if policy == "prediction":
        return pred.copy(), ["prediction"] * len(pred)
    lab = _labels(labels, len(pred))
    known = lab >= 0
    return (np.where(known, lab, pred),
            ["label" if k else "prediction_fallback" for k in known])


def record_target(explanation, policy: str, source: str):
    """Write ``target_policy`` and ``target_source`` into ``explanation.settings`` (returns it)."""
    explanation.settings = {**explanation.settings, "target_policy": check_target_policy(policy),
                            "target_source": source}
    return explanation


def target_source_of(explanation) -> str:
    """The recorded target source of an explanation.

    ``explanation.settings["target_source"]`` when a policy recorded it;
    otherwise ``"prediction"`` when the explained class is the predicted
    one, ``"given"`` when it is not.
    """
    source = (explanation.settings or {}).get("target_source")
    if source:
        return str(source)
    return "prediction" if int(explanation.target) == int(explanation.predicted) else "given"


def explain_with_policy(explainer, images, policy: str = "prediction", labels=None,
                        batch_size: int | None = None) -> list:
    """Explain ``images`` with ``explainer`` for the classes the policy chooses.

    Policy ``"prediction"`` lets the explainer explain its own prediction;
    policy ``"label"`` passes the labels, and where a label is unknown the
    prediction of the explainer's own forward pass (same precision and
    memory format; :func:`spectral_attribution.models.forward.predictions` for an
    explainer without one). Every
    explanation gets ``target_policy`` and ``target_source`` in its settings
    (:func:`record_target`).

    Parameters
    ----------
    explainer:
        A :class:`~spectral_attribution.attributions.sobol.engine.SobolAttribution` (e.g.
        :class:`~spectral_attribution.attributions.wcam.WCAM`), called as
        ``explainer(images, targets)``.
    images:
        ``(B, C, H, W)`` float tensor in ``[0, 1]``.
    labels:
        ``B`` labels (``-1`` unknown) or ``None``.

    Returns
    -------
    list[Explanation]
        One per image, ``target`` the policy's class.
    """
    check_target_policy(policy)
    count = len(images)
    if count == 0:  # e.g. a shard without corrupted copies
        return []
    if policy == "prediction":
        explanations = explainer(images, None)
        sources = ["prediction"] * count
    else:
        lab = _labels(labels, count)
        pred = lab.copy()
        if (lab < 0).any():
            # the explainer's own forward pass: the precision its prediction uses
            forward = getattr(explainer, "forward", None)
            if forward is not None:
                pred = forward(images).argmax(-1).numpy()
            else:
                from spectral_attribution.models.forward import predictions

                pred, _ = predictions(explainer.model, images, batch_size or 64,
                                      precision=getattr(explainer, "precision", "float32"))
        classes, sources = explained_classes(policy, pred, lab)
        explanations = explainer(images, [int(c) for c in classes])
    return [record_target(e, policy, s) for e, s in zip(explanations, sources)]
