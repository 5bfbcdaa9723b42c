"""Sobol' design and total-index estimators against analytic values."""

import math
import warnings

import numpy as np
import pytest
import torch

from spectral_attribution.attributions.sobol.estimators import (
    ESTIMATORS,
    ConstantOutputWarning,
    total_indices,
)
from spectral_attribution.attributions.sobol.design import SobolDesign


def ishigami(u: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    x = -math.pi + 2 * math.pi * u.astype(np.float64)
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_total(a: float = 7.0, b: float = 0.1) -> np.ndarray:
    pi = math.pi
    v1 = 0.5 * (1 + b * pi ** 4 / 5) ** 2
    v2 = a ** 2 / 8
    v13 = b ** 2 * pi ** 8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return np.array([(v1 + v13) / var, v2 / var, v13 / var])


def test_ishigami_analytic_values_are_the_textbook_ones():
    np.testing.assert_allclose(ishigami_total(), [0.5576, 0.4424, 0.2437], atol=1e-4)


@pytest.mark.parametrize("estimator", sorted(ESTIMATORS))
def test_estimators_recover_ishigami_total_indices(estimator):
    design = SobolDesign.create(dim=3, nb_design=2 ** 14, seed=1)
    y = ishigami(design.full())
    st = total_indices(y, design.nb_design, design.dim, estimator).numpy()
    np.testing.assert_allclose(st, ishigami_total(), atol=0.03)


@pytest.mark.parametrize("estimator", sorted(ESTIMATORS))
def test_estimators_recover_linear_model_total_indices(estimator):
    w = np.array([3.0, -2.0, 1.0, 0.5, 0.0])
    design = SobolDesign.create(dim=len(w), nb_design=2 ** 13, seed=2)
    y = design.full().astype(np.float64) @ w
    st = total_indices(y, design.nb_design, design.dim, estimator).numpy()
    np.testing.assert_allclose(st, w ** 2 / (w ** 2).sum(), atol=0.02)


def test_design_has_documented_size_and_structure():
    d, n = 9, 8
    design = SobolDesign.create(dim=d, nb_design=n, seed=3)
    full = design.full()
    assert full.shape == (n * (d + 2), d) == (design.size, d)
    a, b = full[:n], full[n:2 * n]
    np.testing.assert_array_equal(a, design.a)
    np.testing.assert_array_equal(b, design.b)
    assert ((full >= 0) & (full < 1)).all()
    for i in range(d):
        c_i = full[(2 + i) * n:(3 + i) * n]
        expected = a.copy()
        expected[:, i] = b[:, i]
        np.testing.assert_array_equal(c_i, expected)


def test_rows_in_pieces_equal_the_full_design():
    design = SobolDesign.create(dim=16, nb_design=4, seed=0)
    pieces = np.concatenate([design.rows(s, min(s + 7, design.size)) for s in range(0, design.size, 7)])
    np.testing.assert_array_equal(pieces, design.full())


def test_a_and_b_are_two_halves_of_one_sequence():
    from scipy.stats import qmc

    design = SobolDesign.create(dim=5, nb_design=16, seed=7)
    points = qmc.Sobol(d=10, scramble=True, seed=7).random_base2(4).astype(np.float32)
    np.testing.assert_array_equal(np.hstack([design.a, design.b]), points)


def test_seed_fixes_the_design():
    one = SobolDesign.create(dim=4, nb_design=8, seed=5).full()
    two = SobolDesign.create(dim=4, nb_design=8, seed=5).full()
    other = SobolDesign.create(dim=4, nb_design=8, seed=6).full()
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, other)


@pytest.mark.parametrize("bad", [0, 3, 6, 12, -8])
def test_nb_design_must_be_a_power_of_two(bad):
    with pytest.raises(ValueError, match="nb_design"):
        SobolDesign.create(dim=4, nb_design=bad)


def test_constant_output_gives_zeros_and_a_warning_never_nan():
    n, d = 8, 4
    y = torch.full((n * (d + 2),), 3.25)
    for estimator in ESTIMATORS:
        with pytest.warns(ConstantOutputWarning):
            st = total_indices(y, n, d, estimator)
        assert torch.equal(st, torch.zeros(d, dtype=torch.float64)), estimator


def test_batched_outputs_are_estimated_independently():
    design = SobolDesign.create(dim=3, nb_design=256, seed=0)
    y1 = ishigami(design.full())
    y2 = design.full().astype(np.float64) @ np.array([1.0, 0.0, 0.0])
    st = total_indices(np.stack([y1, y2]), design.nb_design, design.dim)
    np.testing.assert_allclose(st[0], total_indices(y1, 256, 3))
    np.testing.assert_allclose(st[1], [1.0, 0.0, 0.0], atol=0.01)
    assert st[1, 1] == st[1, 2] == 0.0


def test_wrong_length_and_unknown_estimator_raise():
    with pytest.raises(ValueError, match="expected 48 outputs"):
        total_indices(np.zeros(47), 8, 4)
    with pytest.raises(ValueError, match="unknown estimator 'sobol'"):
        total_indices(np.zeros(48), 8, 4, "sobol")
