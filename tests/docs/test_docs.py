"""The documentation: the README is a front page, and the site builds with ``mkdocs build --strict``
(a broken link, a page left out of the navigation or a docstring griffe cannot parse fails it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def test_readme_is_a_front_page():
    text = README.read_text()
    lines = text.splitlines()
    assert len(lines) < 300, f"README.md has {len(lines)} lines; move details to docs/"
    first_screen = "\n".join(lines[:45])
    assert "docs/wcam_chelsea.png" in first_screen and (ROOT / "docs" / "wcam_chelsea.png").exists()
    assert "```bash\nmake run\n```" in first_screen and "```bash\nmake test\n```" in first_screen
    python = re.search(r"```python\n(.*?)```", text, re.S)
    assert python and len(python.group(1).strip().splitlines()) <= 10          # a ten-line example
    for target in re.findall(r"\]\((docs/[^)#]+)", text):                      # every link resolves
        assert (ROOT / target).exists(), f"README.md links to a missing {target}"


def test_every_docs_page_is_in_the_site_navigation():
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def pages(nav):
        for item in nav:
            if isinstance(item, str):
                yield item
            else:
                for value in item.values():
                    yield from (pages(value) if isinstance(value, list) else [value])

    listed = set(pages(config["nav"]))
    on_disk = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")
               if "_incoming" not in p.parts}
    assert on_disk == listed, f"not in nav: {on_disk - listed}; missing: {listed - on_disk}"


def test_mkdocs_build_strict(tmp_path):
    mkdocs = Path(sys.executable).parent / "mkdocs"
    assert mkdocs.exists(), f"{mkdocs} is missing: the docs extra (in dev) installs it: pip install -e '.[dev]'"
    cmd = [str(mkdocs)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run([*cmd, "build", "--strict", "--site-dir", str(tmp_path / "site")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    site = tmp_path / "site"
    assert (site / "index.html").exists() and (site / "api" / "attributions" / "index.html").exists()
    assert "SobolAttribution" in (site / "api" / "attributions" / "index.html").read_text()
    assert not (site / "_incoming").exists()                                    # notes stay out
