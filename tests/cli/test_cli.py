"""The command line on a real photograph with the embedded default model."""

import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from skimage import data

from spectral_attribution.cli import build_parser, main
from spectral_attribution.attributions.explanation import Explanation


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
    e = Explanation.load(out / "chelsea%20photo.npz")
    assert e.indices.shape == (4, 4) and e.map.shape == (224, 224) and e.spatial.shape == (224, 224)
    assert e.predicted == 285                      # Egyptian cat
    assert e.settings["grid_size"] == 4 and e.settings["model"] == "efficientnet-lite0"
    for suffix in (".png", ".pdf"):
        assert (out / f"chelsea%20photo{suffix}").stat().st_size > 10_000
    summary = pd.read_csv(out / "summary.csv")
    assert summary.loc[0, "class_name"] == "Egyptian cat"
    assert "Egyptian cat" in capsys.readouterr().out


def test_explain_fourier_cam_with_a_target(photo, tmp_path):
    out = tmp_path / "f"
    assert main(["explain", str(photo), "--method", "fourier-cam", "--family", "circle",
                 "--grid-size", "5", "--nb-design", "2", "--target", "281",
                 "--out", str(out), "--no-progress"]) == 0
    e = Explanation.load(out / "chelsea%20photo.npz")
    assert e.target == 281 and e.indices.shape == (5,) and e.spatial is None


def test_explain_with_the_wam(photo, tmp_path):
    out = tmp_path / "w"
    assert main(["explain", str(photo), "--method", "wam", "--variant", "integratedgrad",
                 "--nb-steps", "3", "--grid-size", "8", "--batch-size", "3",
                 "--out", str(out), "--no-progress"]) == 0
    e = Explanation.load(out / "chelsea%20photo.npz")
    assert e.method == "wam" and e.predicted == 285
    assert e.indices.shape == (8, 8) and e.map.shape == (224, 224) and e.spatial.shape == (224, 224)
    assert e.attributions.shape == (3, 224, 224)
    assert (e.settings["variant"], e.settings["nb_steps"], e.settings["nb_backward"]) == ("integratedgrad", 3, 3)
    # the pooled map sums the coefficient map; IG's attributions sum to f(x) - f(black) (3 steps: loosely)
    assert e.indices.sum() == pytest.approx(e.map.sum(), rel=1e-4)
    assert (out / "chelsea%20photo.png").stat().st_size > 10_000
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
                   "--device", "--out", "--precision", "--backend", "--autocast", "--channels-last",
                   "--method", "--variant", "--nb-samples", "--noise-level", "--nb-steps"):
        assert option in text


# --------------------------------------------------------------------------
# Errors: one line on stderr, a documented exit status, never a traceback
# --------------------------------------------------------------------------
def _fails(capsys, argv, status=2):
    """Run the CLI; check the status and that stderr is one line; return that line."""
    assert main(argv) == status
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("spectral-attribution: error")
    return lines[0]


def test_cuda_on_a_machine_without_it_is_one_line(photo, tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    line = _fails(capsys, ["explain", str(photo), "--out", str(tmp_path / "o"), "--device", "cuda"])
    assert re.search(r"device 'cuda': (this torch build .* has no CUDA support|no CUDA GPU is "
                     r"visible on this machine)", line)
    assert not (tmp_path / "o").exists()
    # a name that is no device at all is refused when the command line is read (parameters' rule)
    with pytest.raises(SystemExit) as info:
        main(["explain", str(photo), "--out", str(tmp_path / "o"), "--device", "gpu0"])
    assert info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "argument --device: device must be cpu, cuda, cuda:K or mps, got 'gpu0'")


def test_out_naming_an_existing_file(photo, tmp_path, capsys):
    target = tmp_path / "taken.txt"
    target.write_text("keep me")
    line = _fails(capsys, ["explain", str(photo), "--out", str(target)])
    assert line.endswith(f"--out {target} is an existing file; give a folder (created if missing)")
    assert target.read_text() == "keep me"


def test_a_grid_beyond_the_design_limit_names_the_grid_and_its_limit(photo, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:  # refused when the command line is read
        main(["explain", str(photo), "--out", str(tmp_path / "o"), "--grid-size", "500"])
    assert info.value.code == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line == ("spectral-attribution: error: --grid-size 500 gives 2 x 250000 Sobol' dimensions, "
                    "more than the 21201 SciPy supports; the maximum --grid-size is 102")
    assert not (tmp_path / "o").exists()


def test_folders_urls_and_missing_files(photo, tmp_path, capsys):
    line = _fails(capsys, ["explain", str(tmp_path), "--out", str(tmp_path / "o")])
    assert line.endswith(f"{tmp_path}: a folder, not an image file; give the image files "
                         f"(e.g. {tmp_path}/*.jpg)")
    url = "https://example.com/images//cat%20photo.jpg?size=large"
    line = _fails(capsys, ["explain", url, "--out", str(tmp_path / "o")])
    assert f"URLs are not supported: {url};" in line          # printed as given, not mangled
    line = _fails(capsys, ["explain", "http://x.org/a.png", "--out", str(tmp_path / "o")])
    assert "http://x.org/a.png" in line
    line = _fails(capsys, ["explain", str(photo), str(tmp_path / "absent.png"), "--out",
                           str(tmp_path / "o")])
    assert line.endswith(f"no such image file: {tmp_path / 'absent.png'}")


def test_undecodable_and_oversized_images(tmp_path, capsys):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    assert f"cannot decode image file {bad}" in _fails(capsys, ["explain", str(bad), "--out",
                                                                 str(tmp_path / "o")])
    strip = tmp_path / "strip.png"
    Image.new("RGB", (6000, 20)).save(strip)
    line = _fails(capsys, ["explain", str(strip), "--out", str(tmp_path / "o")])
    assert "strip.png is 6000 x 20 pixels: aspect ratio 300:1 exceeds the limit of 50:1" in line


def test_a_file_that_is_not_a_checkpoint(photo, tmp_path, capsys):
    page = tmp_path / "weights.pt"
    page.write_text("<!DOCTYPE html><html><body>Quota exceeded</body></html>")
    line = _fails(capsys, ["explain", str(photo), "--out", str(tmp_path / "o"), "--model",
                           "custom:resnet18", "--checkpoint", str(page), "--no-progress"])
    assert f"{page} is not a checkpoint: it is an HTML page" in line


def test_unknown_model(photo, tmp_path, capsys):
    line = _fails(capsys, ["explain", str(photo), "--out", str(tmp_path / "o"), "--model", "resnet5"])
    assert "unknown model 'resnet5'" in line


def test_show_on_a_corrupted_shard_names_it(tmp_path, capsys):
    from spectral_attribution import results
    from spectral_attribution.attributions.explanation import Explanation

    e = Explanation("wcam", np.zeros((2, 2), np.float32), np.zeros((8, 8), np.float32), None,
                    target=1, predicted=1, score=0.0, predicted_score=0.0, settings={})
    shard = results.write_shard(tmp_path / "results" / "wcam" / "m" / "clean" / "shard-000.npz",
                                [e], ["cat"])[0]
    results.write_run_config({"seed": 0, "data": {"n_images": 1}, "wcam": {"shard_size": 1},
                              "models": [{"nickname": "m"}]}, tmp_path / "results")
    shard.write_bytes(shard.read_bytes()[:200])
    line = _fails(capsys, ["show", str(tmp_path / "results"), "--model", "m", "--image", "cat",
                           "--out", str(tmp_path / "x.png")])
    assert f"shard {shard} is corrupted: 200 bytes" in line and "recompute it" in line
    line = _fails(capsys, ["show", str(tmp_path / "nothing"), "--model", "m", "--image", "cat"])
    assert line.endswith(f"results folder not found: {tmp_path / 'nothing'}")


def test_an_internal_failure_exits_1_with_one_line_and_debug_shows_the_traceback(
        photo, tmp_path, capsys, monkeypatch):
    from spectral_attribution import models

    def broken(*args, **kwargs):
        raise RuntimeError("the network fell over")

    monkeypatch.setattr(models, "load_model", broken)
    argv = ["explain", str(photo), "--out", str(tmp_path / "o"), "--grid-size", "2"]
    line = _fails(capsys, argv, status=1)
    assert line == ("spectral-attribution: error (RuntimeError): the network fell over "
                    "(--debug shows the traceback)")
    assert main(["--debug", *argv]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and err.rstrip().endswith("the network fell over")


def test_exit_status_of_the_installed_command(tmp_path):
    """The console script returns main()'s status to the shell."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "spectral_attribution.cli", "explain",
                           str(tmp_path / "nope.jpg"), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"spectral-attribution: error: no such image file: {tmp_path / 'nope.jpg'}"
    bad_option = subprocess.run([sys.executable, "-m", "spectral_attribution.cli", "explain", "x.jpg",
                                 "--out", "o", "--nb-design", "6"], capture_output=True, text=True,
                                timeout=120)
    assert bad_option.returncode == 2
    assert bad_option.stderr.strip().splitlines()[-1] == (
        "spectral-attribution explain: error: argument --nb-design: nb_design must be a power of "
        "two (Sobol' sequences are balanced on powers of two), got 6")


# --------------------------------------------------------------------------
# --help, --version, parse-time checks
# --------------------------------------------------------------------------
def _help(command):
    return build_parser()._subparsers._group_actions[0].choices[command].format_help()


def test_help_shows_required_options_as_required_and_defaults_once():
    text = " ".join(_help("explain").split())
    assert "required: --out DIR output folder (created if missing)" in text
    assert "(default: None)" not in text
    assert text.count("default: the predicted class") == 1 and "--target TARGET class index" in text
    assert "(default: 28)" in text and "(default: efficientnet-lite0)" in text
    show = " ".join(_help("show").split())
    assert "required: --model MODEL" in show and "(default: None)" not in show


def test_version(capsys):
    from spectral_attribution import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"spectral-attribution {__version__}"


@pytest.mark.parametrize("option, value, message", [
    ("--nb-design", "6", "nb_design must be a power of two"),
    ("--nb-design", "0", "nb_design must be a power of two >= 2, got 0"),
    ("--grid-size", "0", "grid_size must be an integer >= 1, got 0"),
    ("--grid-size", "two", "expected an integer, got 'two'"),
    ("--batch-size", "-3", "batch_size must be an integer >= 1, got -3"),
])
def test_parameters_are_checked_at_parse_time_with_the_librarys_rules(capsys, option, value, message):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["explain", "x.jpg", "--out", "o", option, value])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


# --------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------
def test_models_table_fits_100_columns_with_details_on_request(capsys):
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert lines[0].split() == ["MODEL", "INPUT", "OFFLINE", "DESCRIPTION"]
    row = next(line for line in lines if line.startswith("robustbench:Linf:Wong2020Fast "))
    assert row.split()[1:3] == ["-/288", "no"] or row.split()[1:3] == ["-/288", "yes"]
    assert main(["models", "resnet50"]) == 0
    details = capsys.readouterr().out
    assert "resize:        232" in details and "resnet50-11ad3fa6.pth" in details
    assert max(len(line) for line in details.splitlines()) <= 100
    assert main(["models", "--verbose"]) == 0
    rows = lines[1:lines.index("")]  # the model rows: between the header and the footer
    verbose = capsys.readouterr().out
    assert verbose.count("name:") == len(rows) and verbose.startswith("name:")  # every model, in full
    assert "did you mean resnet50" in _fails(capsys, ["models", "resnet5"])


# --------------------------------------------------------------------------
# Progress when stderr is not a terminal
# --------------------------------------------------------------------------
def test_explain_reports_forward_passes_and_a_final_line_per_image(photo, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["explain", str(photo), str(photo), "--grid-size", "2", "--nb-design", "2",
                 "--batch-size", "4", "--out", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("2 images: wcam, grid 2, 2 designs: 12 forward passes per image (24 in all), "
                      "batch 4, on cpu, float32; screening 0.01: at most that many passes, "
                      "typically a fifth to a third")
    # the backend is chosen (and checked against eager) before the first batch is timed
    assert re.fullmatch(r"backend: (onnxruntime|openvino|eager)( \(asked: auto\))?"
                        r"(, max abs logit difference from eager PyTorch \S+)?", err[1]), err[1]
    err = err[2:]
    assert all(re.match(r"\[\d\d:\d\d:\d\d\] image ", line) for line in err)  # log lines, timed
    err = [line[11:] for line in err]
    done = [line for line in err if ": done: " in line]
    assert [line.split(": wcam: done: ")[0] for line in done] == [
        "image 1 of 2 (chelsea photo.jpg)", "image 2 of 2 (chelsea photo.jpg)"]
    assert any(line.startswith("image 1 of 2 (chelsea photo.jpg): wcam: first 4 of 12 forward "
                               "passes in ") for line in err)
    assert main(["explain", str(photo), "--grid-size", "2", "--nb-design", "2", "--out", str(out),
                 "--no-progress"]) == 0
    assert capsys.readouterr().err == ""
