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
    from spectral_attribution.plots.common import FIGURE_FORMATS

    if not args.results.is_dir():
        raise UsageError(f"results folder not found: {args.results}")
    # The default name is built from the image id: a name, never parsed, so an id
    # such as dog.jpg gives <model>-dog.jpg.pdf/.png (the --format list), not a JPEG.
    default = Path(re.sub(r"[^\w.@%-]+", "_", f"{args.model}-{args.image}"))
    formats = tuple(args.format) if args.format else ("pdf", "png")
    if args.out is None or args.out.is_dir():
        out = default if args.out is None else args.out / default
    elif args.format or args.out.suffix.lower() not in {"." + f for f in FIGURE_FORMATS}:
        out = args.out  # a stem the user chose: one file per --format
    else:
        out, formats = args.out, None  # an explicit file name: its own format
    written = render_from_results(args.results, args.model, args.image, out, variant=args.variant,
                                  formats=formats)
    for path in (written.values() if isinstance(written, dict) else [written]):
        print(path)
    return EXIT_OK
