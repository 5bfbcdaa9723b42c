"""``spectral-attribution show``: render one stored explanation of a workflow run
(read through :func:`spectral_attribution.results.load_explanation`, checked
against its manifest) to a PNG/PDF figure.
"""

from __future__ import annotations

import re
from pathlib import Path

from spectral_attribution.cli.parser import EXIT_OK, UsageError


# --------------------------------------------------------------------------
# show
# --------------------------------------------------------------------------
def cmd_show(args) -> int:
    """``show``: render one stored explanation (:func:`spectral_attribution.plots.render_from_results`); returns 0."""
    from spectral_attribution.plots import render_from_results

    if not args.results.is_dir():
        raise UsageError(f"results folder not found: {args.results}")
    default = Path(re.sub(r"[^A-Za-z0-9_.@-]+", "_", f"{args.model}-{args.image}"))
    out = args.out or default
    if args.out is not None and args.out.is_dir():
        out = args.out / default
    written = render_from_results(args.results, args.model, args.image, out, variant=args.variant)
    for path in (written.values() if isinstance(written, dict) else [written]):
        print(path)
    return EXIT_OK
