"""One rule per parameter, the same in the library, the command line and the schema (issue 9, item 9).

Each boundary value (the last accepted and the first refused, and a few
typical mistakes) is pushed through

* the configuration schema (``workflow/schemas/config.schema.yaml``, with
  ``jsonschema``, at every key that holds the parameter, on top of
  ``config/tiny.yaml``),
* the ``spectral-attribution explain`` argument parser, where the option exists,
* the library's public entry point (an explainer, a metric, a study),

and the three must take the same decision, the one the rule of
:mod:`spectral_attribution._utils.parameters` states.
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import pytest
import torch
import yaml

from spectral_attribution import cli, data, metrics, pipeline, studies
from spectral_attribution._utils import parameters
from spectral_attribution.attributions.fourier_cam import FourierCAM
from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.attributions.sobol.design import SobolDesign
from toys import LowPassModel

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
TINY = yaml.safe_load((ROOT / "config" / "tiny.yaml").read_text())
IMAGE = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(0))
MODEL = LowPassModel()


# --------------------------------------------------------------------------
# the three doors
# --------------------------------------------------------------------------
def schema_accepts(key: str, value) -> bool:
    """``key`` (dotted; ``[]`` for "every item of the list") set to ``value`` in the tiny config."""
    cfg = copy.deepcopy(TINY)
    *parents, leaf = key.split(".")
    node = cfg
    for part in parents:
        node = node.setdefault(part, {})
    if leaf.endswith("[]"):
        node[leaf[:-2]] = [value]
    else:
        node[leaf] = value
    return VALIDATOR.is_valid(cfg)


def cli_accepts(flag: str | None, value, *extra) -> bool | None:
    if flag is None:
        return None
    argv = ["explain", "x.png", "--out", "o", *extra, flag, str(value)]
    try:
        cli.parse_args(argv)
    except SystemExit:
        return False
    return True


def library_accepts(call, value) -> bool:
    try:
        call(value)
    except (ValueError, TypeError):
        return False
    return True


_EXPLANATION = {}


def _explanation():
    if "e" not in _EXPLANATION:
        [_EXPLANATION["e"]] = WCAM(MODEL, grid_size=2, nb_design=2, levels=1)(IMAGE[None], [0])
    return _EXPLANATION["e"]


def _reconstruction(**kw):
    return studies.sufficient_reconstruction(MODEL, [IMAGE], [_explanation()], ["a"], **kw)


def _faithfulness(**kw):
    return studies.faithfulness(MODEL, [IMAGE], ["a"], [_explanation()], **kw)


def _baseline(**kw):
    return studies.corruption_baseline(MODEL, IMAGE[None], ["a"], **kw)


# parameter: (schema keys, CLI flag, library call, accepted values, refused values)
CASES = {
    "nb_design": (["wcam.nb_design", "zoom.nb_design", "faithfulness.spatial.nb_design"],
                  "--nb-design", lambda v: WCAM(MODEL, grid_size=2, nb_design=v),
                  [2, 4, 1024], [0, 1, 3, 6, -2, 2 ** 31]),
    "grid_size": (["wcam.grid_size", "zoom.grid_size", "faithfulness.spatial.grid_size"],
                  "--grid-size", lambda v: WCAM(MODEL, grid_size=v, nb_design=2),
                  [1, 28, 102], [0, -1, 103, 500]),
    "levels": (["wcam.levels"], "--levels", lambda v: WCAM(MODEL, grid_size=2, levels=v, nb_design=2),
               [1, 3, 9], [0, -1]),
    "wavelet": (["wcam.wavelet"], "--wavelet", lambda v: WCAM(MODEL, wavelet=v, nb_design=2),
                ["haar", "db2", "sym4", "bior2.2", "dmey"], ["morl", "mexh", "db0", "Haar", ""]),
    "estimator": (["wcam.estimator"], "--estimator", lambda v: WCAM(MODEL, estimator=v, nb_design=2),
                  list(parameters.ESTIMATORS), ["sobol", "Jansen", ""]),
    "autocast": (["wcam.autocast"], "--autocast", lambda v: WCAM(MODEL, autocast=v, nb_design=2),
                 ["none", "float32", "bfloat16", "float16"], ["float64", "half", "auto", ""]),
    "batch_size": (["wcam.batch_size"], "--batch-size",
                   lambda v: WCAM(MODEL, batch_size=v, nb_design=2), [1, 64], [0, -1]),
    "seed": (["seed"], "--seed", lambda v: WCAM(MODEL, seed=v, nb_design=2), [0, 2 ** 32 - 1], [-1]),
    "device": (["device"], "--device", parameters.check_device,
               ["cpu", "cuda", "cuda:1", "mps"], ["gpu", "cuda:x", "CPU", "cuda:"]),
    "nb_random_draws": (["reconstruction.nb_random_draws"], None,
                        lambda v: _reconstruction(nb_random_draws=v), [1, 2], [0, -1]),
    "max_k": (["reconstruction.max_k"], None, lambda v: _reconstruction(nb_random_draws=1, max_k=v),
              [None, 1, 4], [0, -1]),
    "nb_subsets": (["faithfulness.nb_subsets"], None, lambda v: _faithfulness(nb_subsets=v, steps=1),
                   [2, 3], [1, 0]),
    "subset_fraction": (["faithfulness.subset_fraction"], None,
                        lambda v: _faithfulness(nb_subsets=2, subset_fraction=v, steps=1),
                        [0.01, 0.5, 0.99], [0, 1, -0.1, 1.5]),
    "steps": (["faithfulness.steps"], None, lambda v: _faithfulness(nb_subsets=2, steps=v),
              [1, 2], [0, -3]),
    "severity": (["corruptions.severities[]", "corruptions.explain.severities[]"], None,
                 lambda v: _baseline(corruptions=["contrast"], severities=[v]), [1, 5], [0, 6, -1]),
    "corruption": (["corruptions.names[]"], None,
                   lambda v: _baseline(corruptions=[v], severities=[1]),
                   ["gaussian_noise", "saturate"], ["blur", "Gaussian_noise", ""]),
    "n_images": (["data.n_images"], None,
                 lambda v: data.prepare_source({"source": "embedded", "n_images": v}, _TMP["dir"]),
                 [1, 6], [0, -1]),
}
_TMP = {}


@pytest.fixture(autouse=True)
def _tmp(tmp_path):
    _TMP["dir"] = tmp_path


@pytest.mark.parametrize("name", sorted(CASES))
def test_schema_cli_and_library_take_the_same_decision(name):
    keys, flag, call, accepted, refused = CASES[name]
    for value, expected in [(v, True) for v in accepted] + [(v, False) for v in refused]:
        decisions = {f"schema {key}": schema_accepts(key, value) for key in keys}
        if flag is not None and value is not None:
            decisions["cli"] = cli_accepts(flag, value)
        decisions["library"] = library_accepts(call, value)
        assert decisions == {k: expected for k in decisions}, f"{name}={value!r}: {decisions}"


def test_the_largest_design_is_accepted_by_the_rule_everywhere():
    """2**30 (SciPy's 30-bit Sobol' limit): the rule, the schema and the CLI accept it (the
    library's explainers call the same rule, but would allocate the design)."""
    assert parameters.check_nb_design(2 ** 30) == 2 ** 30
    assert schema_accepts("wcam.nb_design", 2 ** 30) and cli_accepts("--nb-design", 2 ** 30)
    for value in (2 ** 31, 2 ** 30 + 2):
        assert not schema_accepts("wcam.nb_design", value) and not cli_accepts("--nb-design", value)
        with pytest.raises(ValueError, match="nb_design"):
            SobolDesign.create(1, value)


def test_one_design_row_is_refused_with_the_reason():
    """nb_design=1 used to give an all-zero map, silently."""
    for call in (lambda: WCAM(MODEL, nb_design=1), lambda: SobolDesign.create(4, 1),
                 lambda: parameters.check_nb_design(1)):
        with pytest.raises(ValueError, match="power of two >= 2, got 1: .*2 design rows"):
            call()
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["explain", "x.png", "--out", "o", "--nb-design", "1"])


def test_a_grid_too_large_for_scipy_names_its_dimensions_and_the_maximum(capsys):
    message = ("grid_size 500 gives 2 x 250000 Sobol' dimensions, more than the 21201 SciPy "
               "supports; the maximum grid_size is 102")
    with pytest.raises(ValueError, match=message):
        WCAM(MODEL, grid_size=500)
    assert parameters.max_grid_size("cells") == 102 and parameters.max_grid_size("rings") == 10600
    # Fourier rings have g inputs, not g^2: 500 rings fit, 10601 do not
    assert FourierCAM(MODEL, grid_size=500, nb_design=2, family="circle").design.dim == 500
    with pytest.raises(ValueError, match="the maximum grid_size is 10600 \\(rings\\)"):
        FourierCAM(MODEL, grid_size=10601, nb_design=2, family="circle")
    with pytest.raises(ValueError, match="the maximum grid_size is 102"):
        FourierCAM(MODEL, grid_size=103, nb_design=2, family="grid")
    # the command line applies the chosen method's family at parse time
    with pytest.raises(SystemExit) as exit_:
        cli.main(["explain", "x.png", "--out", "o", "--grid-size", "500"])
    assert exit_.value.code == 2
    assert "--grid-size 500 gives 2 x 250000 Sobol' dimensions" in capsys.readouterr().err
    args = cli.build_parser().parse_args(["explain", "x.png", "--out", "o", "--grid-size", "500",
                                          "--method", "fourier-cam", "--family", "square"])
    assert parameters.check_grid_size(args.grid_size, cli._grid_family(args)) == 500


def test_levels_are_checked_against_the_image_size():
    """2^J must not exceed the smaller side: 5 levels on 32 px, 7 on 224 px, 8 on 288 px."""
    assert [parameters.max_levels(s) for s in (32, 224, 288, 9)] == [5, 7, 8, 3]
    explainer = WCAM(MODEL, grid_size=2, nb_design=2, levels=6)
    with pytest.raises(ValueError, match="levels 6 is too deep for a 32-pixel side: 2\\^6 > 32; "
                                         "at most 5 levels"):
        explainer(IMAGE[None], [0])
    [e] = WCAM(MODEL, grid_size=2, nb_design=2, levels=5)(IMAGE[None], [0])
    assert e.indices.shape == (2, 2)


def test_a_zoom_view_too_deep_for_its_crop_fails_before_any_job():
    cfg = copy.deepcopy(TINY)
    cfg["zoom"]["views"] = {"regular": [256, 224, 3], "tiny": [64, 32, 6]}
    assert VALIDATOR.is_valid(cfg)  # JSON Schema cannot compare two items of a list
    with pytest.raises(ValueError, match="config key 'zoom.views.tiny': levels 6 is too deep "
                                         "for a 32-pixel side"):
        pipeline.check_config(cfg)
    cfg["zoom"]["enabled"] = False
    pipeline.check_config(cfg)


def test_studies_refuse_bad_settings_before_any_forward_pass():
    """The reconstruction's nb_random_draws=0 used to be refused only after the WCAMs were computed."""
    with pytest.raises(ValueError, match="nb_random_draws must be an integer >= 1, got 0"):
        studies.sufficient_reconstruction(None, None, None, None, nb_random_draws=0)
    with pytest.raises(ValueError, match="subset_fraction must be a number in \\(0, 1\\), got 1"):
        studies.faithfulness(None, None, None, None, subset_fraction=1)
    with pytest.raises(ValueError, match="nb_draws must be an integer >= 1, got 0"):
        metrics.random_order_depths(MODEL, None, None, 0, nb_draws=0)


def test_the_estimator_names_are_the_registry_s():
    from spectral_attribution.attributions.sobol import estimators

    assert set(parameters.ESTIMATORS) <= set(estimators.ESTIMATORS)
    assert SCHEMA["properties"]["wcam"]["properties"]["estimator"]["enum"] == list(parameters.ESTIMATORS)


def test_the_schema_lists_the_package_s_names():
    """Enumerations of the schema are the package's, in the same order."""
    wcam = SCHEMA["properties"]["wcam"]["properties"]
    assert wcam["wavelet"]["enum"] == list(parameters.wavelets())
    assert wcam["autocast"]["enum"] == list(parameters.PRECISIONS)
    assert wcam["nb_design"]["enum"] == [2 ** k for k in range(1, 31)]
    names = SCHEMA["properties"]["corruptions"]["properties"]["names"]
    as_set, as_list = names["oneOf"]
    assert as_list["items"]["enum"] == list(parameters.CORRUPTIONS)
    assert as_set["enum"] == ["standard-15", "extra-4", "all-19"]
    assert names["default"] == "standard-15"


def test_one_credentials_variable_everywhere():
    import inspect

    from spectral_attribution.data import imagenet

    assert data.CREDENTIALS_ENV == imagenet.CREDENTIALS_ENV == "IMAGENET_CREDENTIALS"
    for fn in (imagenet.download, imagenet.imagenet_val):
        assert inspect.signature(fn).parameters["credentials_env"].default == data.CREDENTIALS_ENV
    replication = yaml.safe_load((ROOT / "config" / "replication.yaml").read_text())
    assert replication["data"]["credentials_env"] == data.CREDENTIALS_ENV
