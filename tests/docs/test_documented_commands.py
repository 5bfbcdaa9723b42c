"""Every command the README and the docs pages show is run (slow: one tiny workflow run; part of CI).

The test collects the fenced ``bash`` / ``sh`` / ``console`` blocks (shell
commands) and ``python`` blocks (examples) of ``README.md`` and
``docs/*.md`` (``docs/_incoming/`` excluded: notes not yet integrated), and
runs each one:

- **run** (the default): in one working folder shared by every block, after
  one tiny run of the workflow, with the substitutions of :data:`SHELL_SUBSTITUTIONS`
  and :data:`PYTHON_SUBSTITUTIONS` (the tiny configuration where a command
  uses the default one, small grids for the examples, the tiny run's images
  where the pages name ``chelsea``).
- **dry run**: a block preceded by ``<!-- ci: dry-run (why) -->`` (a GPU,
  ImageNet, SLURM, the test suite itself) is run in an empty working folder
  with each command turned into its dry form (:func:`dry_run`): ``snakemake -n``,
  ``make -n``, ``--help``.

The working folders are temporary: they hold links to the repository's
workflow, configurations and profiles, so ``results/``, ``figures/`` and
``logs/`` of the repository are never touched. A block fails the test with
its page, line, the command as run and its output.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").rglob("*.md") if "_incoming" not in p.parts)]
#: What a working folder links to (whatever of it the repository has).
LINKED = ["Snakefile", "workflow", "config", "profiles", "Makefile", "pyproject.toml", "src",
          "notebooks", "benchmarks", "ci", "tests", ".snakemake-workflow-catalog.yml", "docs",
          "mkdocs.yml", "README.md"]
TINY = "config/tiny.yaml"

#: Multiplies every time limit of this file, for a loaded or slow machine (as in test_workflow.py).
TIMEOUT_SCALE = float(os.environ.get("SPECTRAL_ATTRIBUTION_TEST_TIMEOUT_SCALE", "1"))

pytestmark = [
    pytest.mark.slow,
    # one tiny run (about 5 minutes on 2 idle cores; over 20 on a machine loaded 10 times over)
    pytest.mark.timeout(int(2400 * TIMEOUT_SCALE)),
]

FENCE = re.compile(r"^```(bash|sh|console|python)[^\n]*\n(.*?)^```", re.S | re.M)
DRY = re.compile(r"<!--\s*ci:\s*dry-run\b")


@dataclass(frozen=True)
class Block:
    page: str       # path relative to the repository
    line: int       # line of the opening fence
    language: str   # bash, sh, console or python
    code: str
    dry: bool       # marked <!-- ci: dry-run -->

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    def commands(self) -> list[str]:
        """The shell commands of the block: one per line (``\\`` continuations joined),
        comments (whole lines, and `` # …`` at the end of a line) and blank lines dropped;
        in a ``console`` block, the ``$ `` lines only."""
        text = self.code.replace("\\\n", " ")
        out = []
        for line in text.splitlines():
            if self.language == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                out.append(line)
        return out


def collect(pages=PAGES) -> list[Block]:
    """Every fenced shell and Python block of ``pages``, in page order."""
    blocks = []
    for page in pages:
        text = page.read_text()
        for m in FENCE.finditer(text):
            before = text[:m.start()].rstrip().splitlines()
            dry = bool(before) and bool(DRY.search(before[-1]))
            blocks.append(Block(page.relative_to(ROOT).as_posix(), text[:m.start()].count("\n") + 1,
                                m.group(1), m.group(2), dry))
    return blocks


BLOCKS = collect()
SHELL = [b for b in BLOCKS if b.language != "python"]
PYTHON = [b for b in BLOCKS if b.language == "python"]

#: Shell substitutions, applied in order to every command (``{bin}``: this interpreter's
#: scripts folder; ``{image}`` / ``{corrupted}``: the tiny run's first image and corrupted copy).
SHELL_SUBSTITUTIONS: list[tuple[str, str]] = [
    (r"(?<![\w/])\.venv/bin\b", "{bin}"),
    # make run = set up + the workflow on the embedded default: here the tiny configuration
    # (test_make_run_runs_the_workflow_on_the_default_profile checks what make run runs)
    (r"^make run$", "{bin}/snakemake --profile profiles/default --cores 2 --configfile " + TINY),
    # explain at the CLI's defaults is minutes per image: small grids, eager backend
    (r"(\bspectral-attribution explain .*)$", r"\1 --grid-size 4 --nb-design 2 --backend eager"),
    (r"--nb-steps 25\b", "--nb-steps 4"),
    (r"\bchelsea@gaussian_noise-3\b", "{corrupted}"),
    (r"\bchelsea\b", "{image}"),
]

#: Substitutions in the Python examples: small grids and designs, eager backend, the tiny run's image.
PYTHON_SUBSTITUTIONS: list[tuple[str, str]] = [
    (r"\bgrid_size=(28|16)\b", "grid_size=4"),
    (r"\bnb_design=8\b", "nb_design=2"),
    (r"\bnb_steps=25\b", "nb_steps=4"),
    (r'backend="auto"', 'backend="eager"'),
    (r'"chelsea"', '"{image}"'),
]


def substitute(command: str, rules, values: dict) -> str:
    for pattern, replacement in rules:
        command = re.sub(pattern, replacement, command)
    for key, value in values.items():
        command = command.replace("{" + key + "}", value)
    if re.search(r"(^|/)snakemake\b", command) and "--configfile" not in command:
        command += " --configfile " + TINY          # the default configuration -> the tiny one
    return command


def dry_run(command: str) -> str:
    """The dry form of one command: ``snakemake … -n``, ``make -n …``, ``… --help``.

    Raises
    ------
    ValueError
        A command with no dry form here (add one, or make the block runnable).
    """
    words = shlex.split(command, comments=True)
    if not words or re.fullmatch(r"[A-Za-z_]\w*=\S*", words[0]):
        return command                                           # B=.venv/bin
    exe = Path(words[0]).name
    if exe == "snakemake":
        return command if {"-n", "--dry-run"} & set(words) else f"{command} -n"
    if exe == "make":
        return "make -n " + " ".join(shlex.quote(w) for w in words[1:])
    if exe in ("spectral-attribution", "pytest"):
        return f"{command} --help"
    raise ValueError(f"no dry run for {command!r}: give it one in tests/docs/test_documented_commands.py")


def _workdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        if (ROOT / name).exists() and not (path / name).exists():
            (path / name).symlink_to(ROOT / name)
    return path


def _env() -> dict:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
            "NO_MKDOCS_2_WARNING": "1"}


def _bash(script: str, cwd: Path, timeout: float = 1200) -> subprocess.CompletedProcess:
    """Run ``script`` with ``bash -e``; on timeout its whole process group (Snakemake's jobs
    included) is killed before the error is raised."""
    proc = subprocess.Popen(["bash", "-e", "-o", "pipefail", "-c", script], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout * TIMEOUT_SCALE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _report(block: Block, script: str, run: subprocess.CompletedProcess) -> str:
    return (f"{block.id}: exit status {run.returncode}\n--- as run:\n{script}\n--- stdout:\n"
            f"{run.stdout[-3000:]}\n--- stderr:\n{run.stderr[-5000:]}")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """One tiny run of the workflow in a working folder every 'run' block shares, with the
    image files the CLI examples name."""
    work = _workdir(tmp_path_factory.mktemp("documented") / "work")
    command = substitute("make run", SHELL_SUBSTITUTIONS, {"bin": str(BIN)})
    run = _bash(command, work, timeout=2000)
    assert run.returncode == 0, f"the tiny run failed:\n{command}\n{run.stderr[-5000:]}"
    samples = pd.read_csv(work / "results" / "data" / "samples.csv", dtype={"image_id": str})
    manifest = pd.read_csv(next((work / "results" / "wcam").glob("*/corrupted/shard-000.csv")),
                           dtype={"image_id": str})
    from PIL import Image

    photo = Image.open(work / samples["path"].iloc[0]).convert("RGB")
    for name in ("photo.jpg", "a.png", "b.jpg", "x.png"):     # the files the examples explain
        photo.save(work / name)
    return {"work": work, "values": {"bin": str(BIN), "image": samples["image_id"].iloc[0],
                                     "corrupted": manifest["image_id"].iloc[0]}}


@pytest.fixture(scope="module")
def empty(tmp_path_factory):
    """A working folder with no results, shared by the dry runs."""
    return _workdir(tmp_path_factory.mktemp("documented") / "empty")


def test_the_pages_have_commands_and_examples():
    pages = {b.page for b in BLOCKS}
    assert {"README.md", "docs/usage.md", "docs/workflow.md"} <= pages
    assert any(b.dry for b in SHELL) and any(not b.dry for b in SHELL) and PYTHON
    for block in SHELL:                                  # every command has a form this test runs
        for command in block.commands():
            if block.dry:
                dry_run(command)


def test_rebuild_one_figure_puts_the_target_first():
    """--configfile takes every word after it: a target after it is read as a configuration."""
    for block in SHELL:
        for command in block.commands():
            assert not re.search(r"--configfile(\s+[^\s-]\S*)+\s+figures/", command), (block.id, command)


def test_make_run_runs_the_workflow_on_the_default_profile(empty):
    """The substitution of ``make run`` is what the Makefile's run target runs, on the tiny configuration."""
    run = _bash(f"make -n run VENV={BIN.parent} CONFIG={TINY}", empty, timeout=60)
    assert run.returncode == 0, run.stderr
    printed = " ".join(run.stdout.split())                  # $(TARGETS) empty: spaces collapsed
    assert f"{BIN}/snakemake --profile profiles/default --cores 2 --configfile {TINY}" in printed


@pytest.mark.parametrize("block", [b for b in SHELL if b.dry], ids=lambda b: b.id)
def test_dry_run_block(block, empty):
    script = "\n".join(dry_run(substitute(c, SHELL_SUBSTITUTIONS[:1], {"bin": str(BIN)}))
                       for c in block.commands())
    run = _bash(script, empty, timeout=600)
    assert run.returncode == 0, _report(block, script, run)


@pytest.mark.parametrize("block", [b for b in SHELL if not b.dry], ids=lambda b: b.id)
def test_shell_block(block, tiny):
    script = "\n".join(substitute(c, SHELL_SUBSTITUTIONS, tiny["values"]) for c in block.commands())
    run = _bash(script, tiny["work"])
    assert run.returncode == 0, _report(block, script, run)


@pytest.mark.parametrize("block", PYTHON, ids=lambda b: b.id)
def test_python_example(block, tiny):
    code = block.code
    for pattern, replacement in PYTHON_SUBSTITUTIONS:
        code = re.sub(pattern, replacement, code)
    code = code.replace("{image}", tiny["values"]["image"])
    path = tiny["work"] / f"example_{block.page.replace('/', '_')}_{block.line}.py"
    path.write_text(code)
    run = _bash(f"{shlex.quote(sys.executable)} {path.name}", tiny["work"], timeout=600)
    assert run.returncode == 0, _report(block, code, run)


def test_every_table_csv_of_the_tiny_run_is_numeric(tiny):
    """§ tables as data: every CSV under results/tables/ reads back with pandas.read_csv with
    numbers in every column but the label columns (model, method, condition, level, ...)."""
    from spectral_attribution.studies.table_format import LABEL_COLUMNS

    csvs = sorted((tiny["work"] / "results" / "tables").glob("*.csv"))
    assert len(csvs) >= 8, csvs
    for path in csvs:
        table = pd.read_csv(path)
        words = {c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])
                 and not pd.api.types.is_bool_dtype(table[c]) and table[c].notna().any()}
        assert words <= LABEL_COLUMNS, f"{path.name}: text in statistic columns {sorted(words - LABEL_COLUMNS)}"
