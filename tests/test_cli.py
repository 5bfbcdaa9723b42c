"""The command line on a real photograph with the embedded default model."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage import data

from spectral_attribution.cli import build_parser, main
from spectral_attribution.explanation import Explanation


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "chelsea photo.jpg"
    Image.fromarray(data.chelsea()).save(path)
    return path


def test_explain_writes_arrays_figure_and_summary(photo, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["explain", str(photo), "--grid-size", "4", "--nb-design", "2",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    e = Explanation.load(out / "chelsea_photo.npz")
    assert e.indices.shape == (4, 4) and e.map.shape == (224, 224) and e.spatial.shape == (224, 224)
    assert e.predicted == 285                      # Egyptian cat
    assert e.settings["grid_size"] == 4 and e.settings["model"] == "efficientnet-lite0"
    for suffix in (".png", ".pdf"):
        assert (out / f"chelsea_photo{suffix}").stat().st_size > 10_000
    summary = pd.read_csv(out / "summary.csv")
    assert summary.loc[0, "class_name"] == "Egyptian cat"
    assert "Egyptian cat" in capsys.readouterr().out


def test_explain_fourier_cam_with_a_target(photo, tmp_path):
    out = tmp_path / "f"
    assert main(["explain", str(photo), "--method", "fourier-cam", "--family", "circle",
                 "--grid-size", "5", "--nb-design", "2", "--target", "281",
                 "--out", str(out), "--no-progress"]) == 0
    e = Explanation.load(out / "chelsea_photo.npz")
    assert e.target == 281 and e.indices.shape == (5,) and e.spatial is None


def test_explain_with_the_wam(photo, tmp_path):
    out = tmp_path / "w"
    assert main(["explain", str(photo), "--method", "wam", "--variant", "integratedgrad",
                 "--nb-steps", "3", "--grid-size", "8", "--batch-size", "3",
                 "--out", str(out), "--no-progress"]) == 0
    e = Explanation.load(out / "chelsea_photo.npz")
    assert e.method == "wam" and e.predicted == 285
    assert e.indices.shape == (8, 8) and e.map.shape == (224, 224) and e.spatial.shape == (224, 224)
    assert e.attributions.shape == (3, 224, 224)
    assert (e.settings["variant"], e.settings["nb_steps"], e.settings["nb_backward"]) == ("integratedgrad", 3, 3)
    # the pooled map sums the coefficient map; IG's attributions sum to f(x) - f(black) (3 steps: loosely)
    assert e.indices.sum() == pytest.approx(e.map.sum(), rel=1e-4)
    assert (out / "chelsea_photo.png").stat().st_size > 10_000
    assert pd.read_csv(out / "summary.csv").loc[0, "class_name"] == "Egyptian cat"


def test_wam_options_are_checked(photo, tmp_path, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["explain", str(photo), "--out", "o", "--method", "wam",
                                   "--noise-level", "-1"])
    assert "expected a number >= 0" in capsys.readouterr().err
    assert main(["explain", str(photo), "--method", "wam", "--variant", "integratedgrad",
                 "--nb-steps", "1", "--out", str(tmp_path / "o")]) == 2
    assert "nb_steps must be an integer >= 2" in capsys.readouterr().err


def test_unreadable_image_is_named_and_nothing_is_computed(tmp_path, capsys):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    assert main(["explain", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "broken.jpg" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_models_lists_the_registry_with_preprocessing(capsys):
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert "efficientnet-lite0" in text and "resnet50" in text and "Standard_R50" in text


def test_help_documents_every_option():
    text = build_parser()._subparsers._group_actions[0].choices["explain"].format_help()
    for option in ("--model", "--target", "--grid-size", "--nb-design", "--levels", "--wavelet",
                   "--device", "--out", "--autocast", "--channels-last", "--method",
                   "--variant", "--nb-samples", "--noise-level", "--nb-steps"):
        assert option in text
