"""Every file the package writes follows the user's umask (issue 15: figures, tables, explain
outputs and resources/data/*.png used to be 0600 from the temporary-file step)."""

import os
import stat

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from spectral_attribution import results
from spectral_attribution._utils import files as _common
from spectral_attribution.attributions.explanation import Explanation


@pytest.fixture(params=[0o022, 0o027], ids=["umask022", "umask027"])
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _explanation():
    return Explanation("wcam", np.zeros((2, 2), np.float32), np.zeros((8, 8), np.float32),
                       np.zeros((8, 8), np.float32), target=1, predicted=1, score=0.0,
                       predicted_score=0.0, settings={"grid_size": 2})


def test_umask_is_read_without_changing_it(umask):
    assert _common.umask() == umask
    assert _common.umask() == umask


def test_every_writer_follows_the_umask(umask, tmp_path):
    from spectral_attribution.plots import save_figure
    from spectral_attribution.studies import write_table

    import matplotlib.pyplot as plt

    want = 0o666 & ~umask                      # 0644 under 022, 0640 under 027
    written = [
        _common.write_text("x", tmp_path / "a.txt"),
        _common.write_json({"a": 1}, tmp_path / "a.json"),
        _common.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "a.csv"),
        _common.write_npz(tmp_path / "a.npz", x=np.zeros(2)),
        _common.write_image(Image.new("RGB", (4, 4)), tmp_path / "a.png"),
        _explanation().save(tmp_path / "e.npz"),
        *results.write_shard(tmp_path / "wcam" / "shard-000.npz", [_explanation()], ["i"]),
        results.write_run_config({"seed": 0}, tmp_path / "results"),
        *save_figure(plt.figure(), tmp_path / "fig").values(),
        *write_table(pd.DataFrame({"a": [1.0]}), tmp_path / "table").values(),
    ]
    # a writer that creates its file private (as tempfile does) is corrected too
    with _common.atomic_path(tmp_path / "private.bin") as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
    written.append(tmp_path / "private.bin")
    assert {str(p): oct(_mode(p)) for p in written} == {str(p): oct(want) for p in written}


def test_embedded_photographs_follow_the_umask(umask, tmp_path):
    from spectral_attribution.data import embedded_samples

    table = embedded_samples(tmp_path / "resources" / "data")
    assert {oct(_mode(p)) for p in table["path"]} == {oct(0o666 & ~umask)}


def test_explain_outputs_follow_the_umask(umask, tmp_path):
    from spectral_attribution.cli import main

    photo = tmp_path / "cat.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 40, 3), np.uint8)).save(photo)
    out = tmp_path / "out"
    assert main(["explain", str(photo), "--grid-size", "2", "--nb-design", "2", "--out", str(out),
                 "--no-progress"]) == 0
    modes = {p.name: oct(_mode(p)) for p in out.iterdir()}
    assert set(modes) == {"cat.npz", "cat.png", "cat.pdf", "summary.csv"}
    assert set(modes.values()) == {oct(0o666 & ~umask)}
    assert _mode(out) == 0o777 & ~umask
