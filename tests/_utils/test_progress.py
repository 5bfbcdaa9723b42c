"""Progress reports: log lines when not on a terminal, a bar with ETA on one, labels per image."""

import io
import re

import torch

from spectral_attribution._utils import progress
from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution._utils.progress import Progress, format_duration, task

from toys import LowPassModel


STAMP = re.compile(r"^\[\d\d:\d\d:\d\d\] ")


def unstamped(text: str) -> list[str]:
    """Lines of ``text`` without their leading wall-clock time (asserted present)."""
    lines = text.splitlines()
    assert all(STAMP.match(line) for line in lines), lines
    return [STAMP.sub("", line) for line in lines]


class FakeClock:
    def __init__(self, step=1.0):
        self.t, self.step = 0.0, step

    def __call__(self):
        return self.t

    def tick(self, seconds=None):
        self.t += self.step if seconds is None else seconds


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_log_lines_every_tenth_with_an_estimate_after_the_first_batch():
    out, clock = io.StringIO(), FakeClock()
    with Progress(100, "wcam", "forward passes", show=True, stream=out, clock=clock,
                  timestamps=False) as p:
        for _ in range(20):
            clock.tick(1.0)
            p.update(5)
    lines = out.getvalue().splitlines()
    assert lines[0] == "wcam: 100 forward passes"
    assert lines[1] == "wcam: first 5 of 100 forward passes in 1.0 s: about 20 s in all"
    progress_lines = [line for line in lines if " elapsed" in line]
    # one line per tenth (10 %, 20 %, ... 90 %); the last tenth is the final line
    assert [line.split("(")[1].split(")")[0] for line in progress_lines] == \
        [f"{k} %" for k in range(10, 100, 10)]
    assert progress_lines[0] == "wcam: 10 of 100 forward passes (10 %), 2.0 s elapsed, about 18 s left"
    assert lines[-1] == "wcam: done: 100 forward passes in 20 s"


def test_log_line_every_30_seconds_when_a_tenth_takes_longer():
    out, clock = io.StringIO(), FakeClock()
    with Progress(1000, "zoom", "images", show=True, stream=out, clock=clock, timestamps=False) as p:
        for _ in range(5):          # 5 steps of 31 s: 0.5 % of the work, a line for each
            clock.tick(31.0)
            p.update(1)
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("zoom: first 1 of 1,000 images in 31 s: about 8 h 37 min in all")
    assert [line for line in lines if "elapsed" in line] == [
        f"zoom: {k} of 1,000 images (0 %), {format_duration(31.0 * k)} elapsed, "
        f"about {format_duration(31.0 * (1000 - k))} left" for k in range(2, 6)]
    assert lines[-1] == "zoom: done: 5 of 1,000 images in 2 min 35 s"


def test_nothing_off_a_terminal_unless_asked():
    out = io.StringIO()
    with Progress(10, "wcam", show=None, stream=out) as p:
        p.update(10)
    with Progress(10, "wcam", show=False, stream=Terminal()) as p:
        p.update(10)
    assert out.getvalue() == ""
    assert progress.mode(None, io.StringIO()) is None
    assert progress.mode(True, io.StringIO()) == "lines"
    assert progress.mode(None, Terminal()) == "bar"
    assert progress.mode(False, Terminal()) is None


def test_bar_on_a_terminal_shows_time_left_and_keeps_a_final_line():
    out, clock = Terminal(), FakeClock()
    with Progress(64, "wcam", "forward passes", show=None, stream=out, clock=clock) as p:
        for _ in range(4):
            clock.tick(0.5)
            p.update(16)
            p.bar.refresh()  # tqdm redraws at most every 0.1 s of real time
    text = out.getvalue()
    assert "wcam" in text and "16/64" in text
    assert "<" in text                                  # tqdm's elapsed<remaining
    assert "wcam: first 16 of 64 forward passes in 0.50 s: about 2.0 s in all" in text
    assert text.rstrip().endswith("wcam: done: 64 forward passes in 2.0 s")


def test_task_labels_prefix_lines_outermost_first():
    out = io.StringIO()
    with task("image 2 of 5 (cat.jpg)"):
        with task("view zoomed"):
            with Progress(2, "wcam", "forward passes", show=True, stream=out) as p:
                p.update(2)
    assert unstamped(out.getvalue())[-1].startswith(
        "image 2 of 5 (cat.jpg), view zoomed: wcam: done: 2 forward passes in ")
    assert progress.current_label() == ""


def test_interrupted_task_writes_no_done_line():
    out = io.StringIO()
    try:
        with Progress(10, "wcam", show=True, stream=out) as p:
            p.update(3)
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert "done" not in out.getvalue()


def test_durations():
    assert format_duration(0.8412) == "0.84 s"
    assert format_duration(42.4) == "42 s"
    assert format_duration(185) == "3 min 05 s"
    assert format_duration(2 * 3600 + 7 * 60) == "2 h 07 min"


def test_engine_reports_each_image_of_a_call(capsys):
    model = LowPassModel()
    wcam = WCAM(model, grid_size=2, nb_design=2, levels=1, batch_size=4, progress=True)
    images = torch.rand(2, 3, 16, 16)
    wcam(images, targets=0)
    err = unstamped(capsys.readouterr().err)
    n = wcam.nb_forward                       # 2 * (4 + 2) = 12 rows, batches of 4
    assert n == 12
    assert err[0] == "image 1 of 2: wcam: 12 forward passes"
    assert err[1].startswith("image 1 of 2: wcam: first 4 of 12 forward passes in ")
    done = [line for line in err if ": done: " in line]
    assert [line.split(": done:")[0] for line in done] == ["image 1 of 2: wcam", "image 2 of 2: wcam"]
    assert all(line.split(": done: ")[1].startswith("12 forward passes in ") for line in done)


def test_studies_report_images_through_the_same_reporter(capsys):
    from spectral_attribution._utils.checks import progress_bar

    seen = []
    for item in progress_bar(["a", "b"], True, "corruptions"):
        seen.append((item, progress.current_label()))
    assert seen == [("a", "image 1 of 2"), ("b", "image 2 of 2")]
    err = unstamped(capsys.readouterr().err)
    assert err[0] == "corruptions: 2 images" and err[-1].startswith("corruptions: done: 2 images in ")
