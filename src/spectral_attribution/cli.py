"""Command line: ``spectral-attribution explain | show | models``.

``explain`` writes, for every image, ``OUT/<stem>.npz`` (an
:class:`~spectral_attribution.explanation.Explanation`, loadable with
``Explanation.load``), ``OUT/<stem>.png`` and ``.pdf`` (the image, the map in
the dyadic layout with sub-band boundaries, the spatial map over the image,
the predicted class and score), and ``OUT/summary.csv`` (one row per image).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

METHODS = ("wcam", "fourier-cam", "spatial-sobol", "wam")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``spectral-attribution`` argument parser (sub-commands ``explain``, ``show``, ``models``)."""
    parser = argparse.ArgumentParser(
        prog="spectral-attribution",
        description="Explain image classifiers in the wavelet (WCAM) and Fourier domains.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ex = sub.add_parser(
        "explain", help="explain images and write arrays and figures",
        description="Explain each IMAGE with the chosen model and write OUT/<stem>.npz "
                    "(Explanation.load reads it), OUT/<stem>.png/.pdf and OUT/summary.csv.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ex.add_argument("images", nargs="+", metavar="IMAGE", help="image files (any format PIL reads)")
    ex.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    ex.add_argument("--model", default="efficientnet-lite0",
                    help="registry name (see `spectral-attribution models`)")
    ex.add_argument("--checkpoint", type=Path, default=None,
                    help="checkpoint file for `custom:<arch>` models")
    ex.add_argument("--method", choices=METHODS, default="wcam", help="attribution method")
    ex.add_argument("--target", type=int, default=None,
                    help="class index to explain (default: the predicted class)")
    ex.add_argument("--grid-size", type=_positive_int, default=28,
                    help="cells per side of the mask grid (rings for Fourier ring families)")
    ex.add_argument("--nb-design", type=_positive_int, default=8,
                    help="Sobol' base points n, a power of two; cost n (d + 2) forward passes")
    ex.add_argument("--levels", type=_positive_int, default=3, help="wavelet levels J (WCAM, WAM)")
    ex.add_argument("--wavelet", default="haar", help="PyWavelets discrete wavelet (WCAM, WAM)")
    ex.add_argument("--drop-approximation", action="store_true",
                    help="mask the approximation coefficients in every design (WCAM)")
    ex.add_argument("--family", choices=("grid", "square", "circle"), default="circle",
                    help="mask family (Fourier-CAM)")
    ex.add_argument("--baseline", choices=("zero", "blur"), default="zero",
                    help="inpainting baseline (spatial Sobol')")
    ex.add_argument("--variant", choices=("gradient", "smoothgrad", "integratedgrad"),
                    default="smoothgrad", help="gradient averaging (WAM)")
    ex.add_argument("--nb-samples", type=_positive_int, default=25,
                    help="noisy samples (WAM smoothgrad)")
    ex.add_argument("--noise-level", type=_non_negative_float, default=0.25,
                    help="noise std as a share of the image's pixel range (WAM smoothgrad)")
    ex.add_argument("--nb-steps", type=_positive_int, default=25,
                    help="points on the path from a black image (WAM integratedgrad, >= 2)")
    ex.add_argument("--estimator", default="jansen",
                    choices=("jansen", "homma", "janon", "glen", "saltelli"),
                    help="total-index estimator")
    ex.add_argument("--seed", type=int, default=0,
                    help="seed of the scrambled Sobol' design (of the noise for WAM smoothgrad)")
    ex.add_argument("--batch-size", type=_positive_int, default=64, help="images per forward pass")
    ex.add_argument("--device", default="cpu", help="torch device, e.g. cpu, cuda, cuda:1")
    ex.add_argument("--autocast", choices=("none", "bfloat16", "float16"), default="bfloat16",
                    help="mixed precision of the forward passes (bfloat16: rank correlation "
                         "with float32 WCAMs above 0.9, see README)")
    ex.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=True,
                    help="channels-last memory format for the network")
    ex.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    show = sub.add_parser(
        "show", help="render one image's explanation from workflow results",
        description="Render the explanation of IMAGE_ID by MODEL stored in the workflow's "
                    "results folder to a PNG/PDF figure.",
    )
    show.add_argument("results", type=Path, metavar="RESULTS_DIR", help="the workflow's results/ folder")
    show.add_argument("--model", required=True, help="model key of the configuration")
    show.add_argument("--image", required=True, help="image_id (see results/data/samples.csv)")
    show.add_argument("--variant", default="clean", choices=("clean", "corrupted", "spatial"),
                      help="clean (WCAM), corrupted (WCAM of a corrupted copy, IMAGE_ID like "
                           "chelsea@gaussian_noise-3) or spatial (spatial Sobol')")
    show.add_argument("--out", type=Path, default=None,
                      help="output file: with an extension (.png, .pdf, .svg) one file, "
                           "without one a .pdf and a .png (default: ./<model>-<image>)")

    sub.add_parser("models", help="list the model registry: preprocessing and weights origin")
    return parser


def _stem(path: Path, taken: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem) or "image"
    base, k = stem, 1
    while stem in taken:
        k += 1
        stem = f"{base}-{k}"
    taken.add(stem)
    return stem


def _explainer(args, model):
    from .explainers import WCAM, FourierCAM, SpatialSobol

    if args.method == "wam":  # gradients: no design, no autocast
        from .wam import WAM

        return WAM(model, variant=args.variant, grid_size=args.grid_size, levels=args.levels,
                   wavelet=args.wavelet, nb_samples=args.nb_samples, noise_level=args.noise_level,
                   nb_steps=args.nb_steps, seed=args.seed, batch_size=args.batch_size,
                   device=args.device)

    common = dict(grid_size=args.grid_size, nb_design=args.nb_design, seed=args.seed,
                  estimator=args.estimator, batch_size=args.batch_size, device=args.device,
                  autocast=None if args.autocast == "none" else args.autocast,
                  channels_last=args.channels_last,
                  progress=False if args.no_progress else None)
    if args.method == "wcam":
        return WCAM(model, levels=args.levels, wavelet=args.wavelet,
                    drop_approximation=args.drop_approximation, **common)
    if args.method == "fourier-cam":
        return FourierCAM(model, family=args.family, **common)
    return SpatialSobol(model, baseline=args.baseline, **common)


def cmd_explain(args) -> int:
    """``explain``: write ``OUT/<stem>.npz``, ``.png``, ``.pdf`` per image and ``OUT/summary.csv``; returns 0."""
    import pandas as pd

    from ._common import write_csv
    from .data import load_image
    from .models import load_model
    from .plots import plot_explanation, save_figure

    paths = [Path(p) for p in args.images]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"error: no such image file: {', '.join(missing)}")
    # Decode everything first: a bad file stops the run before any compute.
    images = [load_image(p) for p in paths]
    kwargs = {"checkpoint": args.checkpoint} if args.checkpoint else {}
    model = load_model(args.model, device=args.device, **kwargs)
    explainer = _explainer(args, model)
    args.out.mkdir(parents=True, exist_ok=True)
    rows, taken = [], set()
    for path, pil in zip(paths, images):
        x = model.prepare(pil)
        [explanation] = explainer(x[None], targets=args.target)
        explanation.settings["image"] = str(path)
        stem = _stem(path, taken)
        explanation.save(args.out / f"{stem}.npz")
        name = model.class_name(explanation.predicted)
        title = (f"{path.name}: {name} ({explanation.predicted}), "
                 f"logit {explanation.predicted_score:.2f}")
        if explanation.target != explanation.predicted:
            title += f"; explained {model.class_name(explanation.target)} ({explanation.target})"
        save_figure(plot_explanation(x.permute(1, 2, 0).numpy(), explanation, title=title),
                    args.out / stem)
        rows.append({"image": str(path), "stem": stem, "target": explanation.target,
                     "predicted": explanation.predicted, "class_name": name,
                     "score": explanation.score, "predicted_score": explanation.predicted_score,
                     "settings": json.dumps(explanation.settings)})
        print(f"{path} -> {args.out / stem}.npz  predicted {name} ({explanation.predicted}) "
              f"logit {explanation.predicted_score:.2f}")
    write_csv(pd.DataFrame(rows), args.out / "summary.csv")
    return 0


def cmd_show(args) -> int:
    """``show``: render one stored explanation (:func:`spectral_attribution.plots.render_from_results`); returns 0."""
    from .plots import render_from_results

    out = args.out or Path(re.sub(r"[^A-Za-z0-9_.@-]+", "_", f"{args.model}-{args.image}"))
    written = render_from_results(args.results, args.model, args.image, out, variant=args.variant)
    for path in (written.values() if isinstance(written, dict) else [written]):
        print(path)
    return 0


def cmd_models(args) -> int:
    """``models``: print the model registry; returns 0."""
    import pandas as pd

    from .models import list_models

    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(pd.DataFrame(list_models()).to_string(index=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: run a sub-command; exit status 0, or 2 with ``error: ...`` on stderr for bad input."""
    args = build_parser().parse_args(argv)
    handler = {"explain": cmd_explain, "show": cmd_show, "models": cmd_models}[args.command]
    try:
        return handler(args)
    except (ValueError, KeyError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
