"""Command line: ``spectral-attribution explain | show | models``.

``explain`` writes, for every image, ``OUT/<stem>.npz`` (an
:class:`~spectral_attribution.attributions.explanation.Explanation`, loadable with
``Explanation.load``), ``OUT/<stem>.png`` and ``.pdf`` (the image, the map in
the dyadic layout with sub-band boundaries, the spatial map over the image,
the predicted class and score), and ``OUT/summary.csv`` (one row per image).

Exit status
-----------
==  ============================================================================
0   success
1   the command failed while running for a reason other than its input: the
    environment (disk full, out of memory, a missing optional package) or a
    bug. One line on stderr starting ``spectral-attribution: error:``.
2   the command line or its inputs are wrong: a bad option or value (argparse
    prints the usage), a missing file, a folder or a URL given as an image, an
    undecodable or oversized image, an unknown model, a bad checkpoint, a
    device this machine does not have, ``--out`` naming a file, a results
    folder or shard that is missing or corrupted. One line on stderr.
130 interrupted (Ctrl-C).
==  ============================================================================

No error prints a traceback unless ``--debug`` is given (before the
sub-command: ``spectral-attribution --debug explain ...``).

Progress (on stderr): before the first image, the number of forward passes per
image; for each image, a bar with the time left on a terminal, or log lines
(every 10 % or 30 s) when stderr is a file or a pipe, an estimate of the
image's time after its first batch, and a final line per image that stays.
``--no-progress`` hides all of it. Results go to stdout, one line per image.

Extending the parser: every option of ``explain`` that sets a parameter of
the explainers is declared in :func:`add_explain_options` with a ``type=``
validator from :data:`VALIDATORS`, so that one entry changes the rule (the
library's own rule) for the command line.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Callable

from spectral_attribution._utils import parameters as P
from spectral_attribution._version import __version__

METHODS = ("wcam", "fourier-cam", "spatial-sobol", "wam")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
PROG = "spectral-attribution"
#: Width of ``models``' table and of wrapped help text.
WIDTH = 100


class UsageError(ValueError):
    """An input of the command line is wrong (exit status 2); the message says which and why."""


# --------------------------------------------------------------------------
# Validators of parameter values (argparse ``type=``): the library's rules
# --------------------------------------------------------------------------
def _grid_family(args) -> str:
    """The design family of the chosen method (:data:`spectral_attribution._utils.parameters.GRID_FAMILIES`)."""
    return "rings" if args.method == "fourier-cam" and args.family != "grid" else "cells"


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


#: Option name → ``type=`` validator: the rules of :mod:`spectral_attribution._utils.parameters`,
#: the same as the library's and the workflow schema's. Replace an entry to change a rule.
VALIDATORS: dict[str, Callable[[str], object]] = {
    # the loosest family's limit; parse_args applies the chosen method's family
    "grid_size": P.argtype(P.check_grid_size, family="rings"),
    "nb_design": P.argtype(P.check_nb_design),
    "levels": P.argtype(P.check_levels),
    "batch_size": P.argtype(P.check_batch_size),
    "seed": P.argtype(P.check_seed),
    "target": P.argtype(P.check_target),
    "wavelet": P.argtype(P.check_wavelet, str),
    "device": P.argtype(P.check_device, str),
}


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows ``(default: X)`` once, only for options whose default is a value worth showing."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" in text or action.required or action.default in (None, False)
                or action.default is argparse.SUPPRESS or not action.option_strings):
            return text
        return f"{text} (default: {action.default})"


# --------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------
def add_explain_options(ex: argparse.ArgumentParser) -> None:
    """The options of ``explain`` (a hook for options added by other modules)."""
    ex.add_argument("images", nargs="+", metavar="IMAGE",
                    help="image files (any format PIL reads; URLs are not supported)")
    required = ex.add_argument_group("required")
    required.add_argument("--out", required=True, type=Path, metavar="DIR",
                          help="output folder (created if missing)")
    ex.add_argument("--model", default="efficientnet-lite0",
                    help="registry name (see `spectral-attribution models`)")
    ex.add_argument("--checkpoint", type=Path, default=None,
                    help="checkpoint file for `custom:<arch>` models")
    ex.add_argument("--method", choices=METHODS, default="wcam", help="attribution method")
    ex.add_argument("--target", type=VALIDATORS["target"], default=None,
                    help="class index to explain (default: the predicted class)")
    # the loosest family's limit here; parse_args applies the chosen method's family
    ex.add_argument("--grid-size", type=VALIDATORS["grid_size"], default=28,
                    help="cells per side of the mask grid (rings for Fourier ring families); "
                         f"at most {P.max_grid_size('cells')} cells a side")
    ex.add_argument("--nb-design", type=VALIDATORS["nb_design"], default=8,
                    help="Sobol' base points n, a power of two >= 2; cost n (d + 2) forward passes")
    ex.add_argument("--levels", type=VALIDATORS["levels"], default=3, help="wavelet levels J (WCAM, WAM)")
    ex.add_argument("--wavelet", type=VALIDATORS["wavelet"], default="haar",
                    help="PyWavelets discrete wavelet (WCAM, WAM)")
    ex.add_argument("--drop-approximation", action="store_true",
                    help="mask the approximation coefficients in every design (WCAM)")
    ex.add_argument("--family", choices=("grid", "square", "circle"), default="circle",
                    help="mask family (Fourier-CAM)")
    ex.add_argument("--baseline", choices=("zero", "blur"), default="zero",
                    help="inpainting baseline (spatial Sobol')")
    ex.add_argument("--variant", choices=("gradient", "smoothgrad", "integratedgrad"),
                    default="smoothgrad", help="gradient averaging (WAM)")
    ex.add_argument("--nb-samples", type=P.argtype(P.check_positive_int, name="nb_samples"),
                    default=25,
                    help="noisy samples (WAM smoothgrad)")
    ex.add_argument("--noise-level", type=_non_negative_float, default=0.25,
                    help="noise std as a share of the image's pixel range (WAM smoothgrad)")
    ex.add_argument("--nb-steps", type=P.argtype(P.check_positive_int, name="nb_steps"),
                    default=25,
                    help="points on the path from a black image (WAM integratedgrad, >= 2)")
    ex.add_argument("--screening", type=_screening, default=None, metavar="TAU",
                    help="screen the Sobol' design with group total indices: groups below TAU "
                         "times the total are not split further (WCAM default 0.01: sub-bands, "
                         "then quadtree blocks, then cells); 'none' for the full design "
                         "(spatial Sobol', Fourier-CAM default)")
    ex.add_argument("--estimator", default="jansen", choices=P.ESTIMATORS,
                    help="total-index estimator")
    ex.add_argument("--seed", type=VALIDATORS["seed"], default=0,
                    help="seed of the scrambled Sobol' design (of the noise for WAM smoothgrad)")
    ex.add_argument("--batch-size", type=VALIDATORS["batch_size"], default=64,
                    help="images per forward pass")
    ex.add_argument("--device", type=VALIDATORS["device"], default="cpu",
                    help="torch device, e.g. cpu, cuda, cuda:1")
    ex.add_argument("--precision", choices=("float32", "bfloat16", "float16", "auto"),
                    default="float32",
                    help="precision of the forward passes: float32 gives the same numbers on "
                         "every machine; bfloat16/float16 autocast are faster where native and "
                         "change the numbers; auto uses bfloat16 only on CUDA and on CPUs with "
                         "AVX512-BF16/AMX (see README, Performance)")
    ex.add_argument("--backend", choices=("auto", "eager", "channels_last", "compile",
                                          "onnxruntime", "openvino", "cuda_graphs"),
                    default="auto",
                    help="what runs the network; any backend but eager is used only where its "
                         "logits agree with eager PyTorch within 1e-3 (else eager, with a "
                         "warning); auto: the fastest agreeing one for the device")
    ex.add_argument("--autocast", choices=("none", "float32", "bfloat16", "float16"), default=None,
                    help="DEPRECATED: use --precision (none = float32)")
    ex.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                    help="DEPRECATED: use --backend channels_last (or auto)")
    ex.add_argument("--no-progress", action="store_true",
                    help="no progress on stderr (by default: a bar with the time left on a "
                         "terminal, log lines every 10 %% or 30 s otherwise)")


def build_parser() -> argparse.ArgumentParser:
    """The ``spectral-attribution`` argument parser (sub-commands ``explain``, ``show``, ``models``)."""
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=_HelpFormatter,
        description="Explain image classifiers in the wavelet (WCAM) and Fourier domains.",
        epilog="Exit status: 0 success; 2 a wrong command line or input (missing or bad file, "
               "unknown model, unavailable device...); 1 a failure while running; 130 "
               "interrupted. Errors are one line on stderr (--debug adds the traceback).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="print the traceback of an error (before the sub-command)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ex = sub.add_parser(
        "explain", help="explain images and write arrays and figures", formatter_class=_HelpFormatter,
        description="Explain each IMAGE with the chosen model and write OUT/<stem>.npz "
                    "(Explanation.load reads it), OUT/<stem>.png/.pdf and OUT/summary.csv.")
    add_explain_options(ex)

    show = sub.add_parser(
        "show", help="render one image's explanation from workflow results",
        formatter_class=_HelpFormatter,
        description="Render the explanation of IMAGE_ID by MODEL stored in the workflow's "
                    "results folder to a PNG/PDF figure. Only the shards of the configuration "
                    "recorded in RESULTS_DIR/config.yaml are read; each is checked against its "
                    "manifest.")
    show.add_argument("results", type=Path, metavar="RESULTS_DIR", help="the workflow's results/ folder")
    required = show.add_argument_group("required")
    required.add_argument("--model", required=True, help="model nickname of the configuration")
    required.add_argument("--image", required=True, help="image_id (see results/data/samples.csv)")
    show.add_argument("--variant", default="clean", choices=("clean", "corrupted", "spatial"),
                      help="clean (WCAM), corrupted (WCAM of a corrupted copy, IMAGE_ID like "
                           "chelsea@gaussian_noise-3) or spatial (spatial Sobol')")
    show.add_argument("--out", type=Path, default=None,
                      help="output file: with an extension (.png, .pdf, .svg) one file, "
                           "without one a .pdf and a .png; an existing folder: written inside it "
                           "(default: ./<model>-<image>)")

    models = sub.add_parser(
        "models", help="list the model registry (details with --verbose or a NAME)",
        formatter_class=_HelpFormatter,
        description="The registered models in a table; with NAME or --verbose, every detail "
                    "(preprocessing, where the weights come from and are read).")
    models.add_argument("name", nargs="?", metavar="NAME", help="one model to describe in full")
    models.add_argument("-v", "--verbose", action="store_true", help="every detail of every model")
    return parser


# --------------------------------------------------------------------------
# explain
# --------------------------------------------------------------------------
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _image_paths(arguments: list[str]) -> list[Path]:
    """The image arguments as paths; ``UsageError`` for URLs, folders and missing files."""
    urls = [a for a in arguments if _URL.match(a)]
    if urls:
        raise UsageError(f"URLs are not supported: {', '.join(urls)}; download the image first "
                         f"(e.g. curl -O URL) and give the file's path")
    paths = [Path(a) for a in arguments]
    folders = [str(p) for p in paths if p.is_dir()]
    if folders:
        raise UsageError(f"{', '.join(folders)}: a folder, not an image file; give the image "
                         f"files (e.g. {folders[0].rstrip('/')}/*.jpg)")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such image file: {', '.join(missing)}")
    return paths


def _check_out(out: Path, option: str = "--out") -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"{option} {out} is an existing file; give a folder (created if missing)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and check the arguments (:mod:`spectral_attribution._utils.parameters`' rules).

    Each option is checked by its ``type=``; the grid's limit depends on the
    method's design family and is checked once both are known. A refused
    value exits with status 2 and the rule's message, before any work.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "explain":
        try:
            P.check_grid_size(args.grid_size, _grid_family(args), name="--grid-size")
        except ValueError as err:
            parser.error(str(err))
    return args


def _stem(path: Path, taken: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem) or "image"
    base, k = stem, 1
    while stem in taken:
        k += 1
        stem = f"{base}-{k}"
    taken.add(stem)
    return stem


def _design_inputs(args) -> int:
    """Inputs ``d`` of the Sobol' design of ``args`` (cells, or rings of a Fourier ring family)."""
    if args.method == "fourier-cam" and args.family != "grid":
        return args.grid_size
    return args.grid_size ** 2


def _screening(value: str):
    """``--screening``: ``"none"`` (the full design) or a share in ``[0, 1)``, returned as the
    tuple ``("set", value)`` so that an explicit ``none`` differs from the option left out."""
    from spectral_attribution.attributions.sobol.screening import check_screening

    try:
        return ("set", check_screening(value))
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _forward_options(args) -> tuple[str, str]:
    """``(precision, backend)`` of ``args``, the deprecated ``--autocast`` /
    ``--channels-last`` folded in (one warning line each); ``UsageError`` when
    ``--autocast`` and ``--precision`` disagree."""
    precision, backend = args.precision, args.backend
    if args.autocast is not None:
        old = "float32" if args.autocast == "none" else args.autocast
        if precision not in ("float32", old):
            raise UsageError(f"--autocast {args.autocast} and --precision {precision} disagree; "
                             f"give --precision only (--autocast is deprecated)")
        print(f"{PROG}: warning: --autocast is deprecated; use --precision {old}", file=sys.stderr)
        precision = old
    if args.channels_last is not None:
        print(f"{PROG}: warning: --channels-last/--no-channels-last are deprecated; use --backend "
              f"(now {'channels_last' if args.channels_last and backend == 'eager' else backend})",
              file=sys.stderr)
        if args.channels_last and backend == "eager":
            backend = "channels_last"
    return precision, backend


def _explainer(args, model):
    from spectral_attribution.attributions.fourier_cam import FourierCAM
    from spectral_attribution.attributions.spatial_sobol import SpatialSobol
    from spectral_attribution.attributions.wcam import WCAM

    if args.method == "wam":  # gradients in float32, eager: no design, no forward backend
        from spectral_attribution.attributions.wam import WAM

        return WAM(model, variant=args.variant, grid_size=args.grid_size, levels=args.levels,
                   wavelet=args.wavelet, nb_samples=args.nb_samples, noise_level=args.noise_level,
                   nb_steps=args.nb_steps, seed=args.seed, batch_size=args.batch_size,
                   device=args.device)

    precision, backend = _forward_options(args)
    common = dict(grid_size=args.grid_size, nb_design=args.nb_design, seed=args.seed,
                  estimator=args.estimator, batch_size=args.batch_size, device=args.device,
                  precision=precision, backend=backend,
                  progress=False if args.no_progress else True)
    if getattr(args, "screening", None) is not None:  # left out: the method's default
        common["screening"] = args.screening[1]
    if args.method == "wcam":
        return WCAM(model, levels=args.levels, wavelet=args.wavelet,
                    drop_approximation=args.drop_approximation, **common)
    if args.method == "fourier-cam":
        return FourierCAM(model, family=args.family, **common)
    return SpatialSobol(model, baseline=args.baseline, **common)


def _plan_line(args, explainer, count: int) -> str:
    per_image = explainer.nb_forward
    return (f"{count} image{'s' if count > 1 else ''}: {args.method}, grid {args.grid_size}, "
            f"{args.nb_design} designs: {per_image:,} forward passes per image"
            + (f" ({per_image * count:,} in all)" if count > 1 else "")
            + f", batch {args.batch_size}, on {args.device}, {explainer.precision}"
            + (f"; screening {explainer.screening}: at most that many passes, typically a "
               f"fifth to a third" if getattr(explainer, "screening", None) else ""))


def _backend_line(explainer, x) -> str:
    """Which backend runs the network, built and checked now on ``x`` (the first image, (1, C, H, W))."""
    runner = explainer.forward.runner
    s = runner.build(x).settings() if runner is not None else {
        "backend": "eager", "backend_requested": "eager", "max_abs_logit_diff": 0.0}
    line = f"backend: {s['backend']}"
    if s["backend_requested"] != s["backend"]:
        line += f" (asked: {s['backend_requested']})"
    if s["backend"] != "eager":
        line += f", max abs logit difference from eager PyTorch {s['max_abs_logit_diff']:.1g}"
    return line


def cmd_explain(args) -> int:
    """``explain``: write ``OUT/<stem>.npz``, ``.png``, ``.pdf`` per image and ``OUT/summary.csv``; returns 0."""
    import pandas as pd

    from spectral_attribution.models.forward import check_device
    from spectral_attribution._utils.files import write_csv
    from spectral_attribution.data import load_image
    from spectral_attribution.models import load_model
    from spectral_attribution.plots import plot_explanation, save_figure
    from spectral_attribution._utils.progress import task
    from spectral_attribution.attributions.sobol.design import check_design_size

    # Every check that needs no model comes first: a bad input costs nothing.
    paths = _image_paths(args.images)
    _check_out(args.out)
    check_device(args.device)
    check_design_size(_design_inputs(args), args.nb_design)
    args.precision, args.backend = _forward_options(args)  # deprecated flags: warned once, here
    args.autocast = args.channels_last = None
    images = [load_image(p) for p in paths]  # decodes all: a bad file stops the run before any compute
    kwargs = {"checkpoint": args.checkpoint} if args.checkpoint else {}
    model = load_model(args.model, device=args.device, **kwargs)
    explainer = _explainer(args, model)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.no_progress:
        print(_plan_line(args, explainer, len(paths)), file=sys.stderr, flush=True)
        # build (export, compile) and check the backend now, so the first batch's
        # time, and the estimate made from it, is the time of a forward pass
        print(_backend_line(explainer, model.prepare(images[0])[None]), file=sys.stderr, flush=True)
    rows, taken = [], set()
    for k, (path, pil) in enumerate(zip(paths, images), start=1):
        x = model.prepare(pil)
        with task(f"image {k} of {len(paths)} ({path.name})"):
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
              f"logit {explanation.predicted_score:.2f}", flush=True)
    write_csv(pd.DataFrame(rows), args.out / "summary.csv")
    return EXIT_OK


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


# --------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------
def _cut(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: max(width - 3, 0)] + "..."


def _input(row: dict) -> str:
    resize = row.get("resize")
    return f"{resize if resize else '-'}/{row.get('crop') or '-'}"


def models_table(rows: list[dict], width: int = WIDTH) -> str:
    """The registry as a table at most ``width`` characters wide (descriptions cut to fit)."""
    head = ("MODEL", "INPUT", "OFFLINE", "DESCRIPTION")
    cells = [(r["name"], _input(r), "yes" if r.get("available") else "no",
              r.get("description") or "") for r in rows]
    widths = [max(len(head[i]), *(len(c[i]) for c in cells)) for i in range(3)]
    rest = max(width - sum(widths) - 2 * 3, 10)
    lines = ["  ".join([head[0].ljust(widths[0]), head[1].ljust(widths[1]),
                        head[2].ljust(widths[2]), head[3]])]
    for c in cells:
        lines.append("  ".join([c[0].ljust(widths[0]), c[1].ljust(widths[1]), c[2].ljust(widths[2]),
                                _cut(c[3], rest)]).rstrip())
    lines.append("")
    lines += textwrap.wrap(
        "INPUT: resize (shorter side) / centre crop, in pixels. OFFLINE: the weights are on this "
        "machine. Also: torchvision:<arch>:<WEIGHTS>, custom:<arch> with --checkpoint. Details: "
        "`spectral-attribution models NAME` or `--verbose`.", width)
    return "\n".join(line[:width] for line in lines)


def model_details(row: dict, width: int = WIDTH) -> str:
    """Every field of one registry entry, one per line, wrapped at ``width``."""
    keys = ["name", "family", "description", "resize", "crop", "interpolation", "mean", "std",
            "weights", "checkpoint", "available"]
    keys += [k for k in row if k not in keys]
    pad = max(len(k) for k in keys) + 2
    lines = []
    for key in keys:
        value = row.get(key)
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        text = "" if value is None else str(value)
        wrapped = textwrap.wrap(text, width - pad) or [""]
        lines.append(f"{key + ':':<{pad}}{wrapped[0]}")
        lines += [" " * pad + more for more in wrapped[1:]]
    return "\n".join(lines)


def cmd_models(args) -> int:
    """``models``: print the registry as a table, or the details of one (``NAME``) or all (``-v``); returns 0."""
    import difflib

    from spectral_attribution.models import list_models

    rows = list_models()
    if args.name:
        match = [r for r in rows if r["name"] == args.name]
        if not match:
            close = difflib.get_close_matches(args.name, [r["name"] for r in rows], n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"unknown model {args.name!r}{hint} (`spectral-attribution models` "
                             f"lists them)")
        print(model_details(match[0]))
    elif args.verbose:
        print("\n\n".join(model_details(r) for r in rows))
    else:
        print(models_table(rows))
    return EXIT_OK


# --------------------------------------------------------------------------
# Entry point and error handling
# --------------------------------------------------------------------------
#: Exceptions that mean "the command line or its inputs are wrong": exit status 2.
INPUT_ERRORS = (UsageError, ValueError, KeyError, LookupError, FileNotFoundError,
                IsADirectoryError, NotADirectoryError, FileExistsError)


def error_line(err: BaseException) -> str:
    """The message of ``err`` on one line (a ``KeyError``'s message without its quotes)."""
    message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    message = "; ".join(part.strip() for part in str(message).splitlines() if part.strip())
    if not message:
        message = type(err).__name__
    if isinstance(err, OSError) and not isinstance(err, INPUT_ERRORS) and err.filename \
            and str(err.filename) not in message:
        message += f": {err.filename}"
    return message


def _report(err: BaseException, status: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    prefix = "error" if status == EXIT_USAGE else f"error ({type(err).__name__})"
    hint = "" if debug or status == EXIT_USAGE else " (--debug shows the traceback)"
    print(f"{PROG}: {prefix}: {error_line(err)}{hint}", file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    """Run a sub-command; returns the exit status (see the module docstring): 0, 1, 2 or 130."""
    args = parse_args(argv)  # a bad option exits here with status 2 and the usage
    handler = {"explain": cmd_explain, "show": cmd_show, "models": cmd_models}[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except INPUT_ERRORS as err:
        return _report(err, EXIT_USAGE, args.debug)
    except Exception as err:  # noqa: BLE001 - any other failure: one line, status 1
        return _report(err, EXIT_FAILURE, args.debug)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
