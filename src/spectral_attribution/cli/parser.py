"""The ``spectral-attribution`` argument parser and its validators.

Every option of ``explain`` that sets a parameter of the explainers is
declared in :func:`add_explain_options` with a ``type=`` validator from
:data:`VALIDATORS` (the rules of :mod:`spectral_attribution._utils.parameters`,
the library's own), so one entry changes the rule for the command line.
Also the exit statuses and :class:`UsageError` shared by the sub-commands.
"""

from __future__ import annotations

import argparse
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


def _screening(value: str):
    """``--screening``: ``"none"`` (the full design) or a share in ``[0, 1)``, returned as the
    tuple ``("set", value)`` so that an explicit ``none`` differs from the option left out."""
    from spectral_attribution.attributions.sobol.screening import check_screening

    try:
        return ("set", check_screening(value))
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


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
    show.add_argument("--format", action="append", choices=("pdf", "png", "svg", "jpg", "eps"),
                      default=None, metavar="FMT",
                      help="figure format, repeatable (pdf, png, svg, jpg, eps; default: pdf and "
                           "png); the name is never read from the image id")

    models = sub.add_parser(
        "models", help="list the model registry (details with --verbose or a NAME)",
        formatter_class=_HelpFormatter,
        description="The registered models in a table; with NAME or --verbose, every detail "
                    "(preprocessing, where the weights come from and are read).")
    models.add_argument("name", nargs="?", metavar="NAME", help="one model to describe in full")
    models.add_argument("-v", "--verbose", action="store_true", help="every detail of every model")
    return parser


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
