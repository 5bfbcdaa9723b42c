"""The target policy: which class an explanation explains, on constructed cases."""

import numpy as np
import pytest
import torch

from helpers_studies import LinearLogits
from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.models import ModelWrapper, Preprocessing
from spectral_attribution.attributions.targets import (
    check_target_policy,
    explain_with_policy,
    explained_classes,
    target_source_of,
)


def test_explained_classes_known_values():
    pred, labels = [5, 6, 7], [5, -1, 2]
    classes, sources = explained_classes("prediction", pred, labels)
    assert classes.tolist() == [5, 6, 7] and sources == ["prediction"] * 3
    classes, sources = explained_classes("label", pred, labels)
    assert classes.tolist() == [5, 6, 2]
    assert sources == ["label", "prediction_fallback", "label"]
    assert explained_classes("label", pred, None)[1] == ["prediction_fallback"] * 3
    with pytest.raises(ValueError, match="3 images"):
        explained_classes("label", pred, [1, 2])


def test_the_policy_names_are_checked():
    assert check_target_policy("label") == "label"
    with pytest.raises(ValueError, match=r"\['prediction', 'label'\].*'predicted' is now spelled"):
        check_target_policy("predicted")


def _mean_model():
    # class 1 iff the mean pixel exceeds 0.25
    n = 3 * 16 * 16
    w = np.zeros((n, 2), np.float32)
    w[:, 1] = 1.0 / n
    return ModelWrapper(LinearLogits(w, bias=[0.25, 0.0]),
                        Preprocessing(resize=None, crop=None, mean=None, std=None), name="mean")


@pytest.mark.filterwarnings("ignore:the model's output is constant")
def test_explain_with_policy_records_class_and_source():
    model = _mean_model()
    x = torch.stack([torch.full((3, 16, 16), 0.5), torch.full((3, 16, 16), 0.1)])  # predicted 1, 0
    wcam = WCAM(model, grid_size=2, nb_design=2, levels=1, progress=False)
    by_prediction = explain_with_policy(wcam, x, "prediction", labels=[0, 1])
    assert [e.target for e in by_prediction] == [1, 0]
    assert [target_source_of(e) for e in by_prediction] == ["prediction"] * 2
    by_label = explain_with_policy(wcam, x, "label", labels=[0, -1])
    assert [e.target for e in by_label] == [0, 0] and [e.predicted for e in by_label] == [1, 0]
    assert [e.settings["target_source"] for e in by_label] == ["label", "prediction_fallback"]
    assert {e.settings["target_policy"] for e in by_label} == {"label"}
    assert explain_with_policy(wcam, x[:0], "label", labels=[]) == []
