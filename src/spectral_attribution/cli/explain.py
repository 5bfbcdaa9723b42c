"""``spectral-attribution explain``: explain image files and write arrays and figures.

For every image: ``OUT/<stem>.npz`` (an
:class:`~spectral_attribution.attributions.explanation.Explanation`),
``OUT/<stem>.png`` and ``.pdf``, and one row of ``OUT/summary.csv``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from spectral_attribution.cli.parser import EXIT_OK, PROG, UsageError


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


def _output_names(paths: list[Path]) -> list[str]:
    """The name of each image's outputs (``OUT/<name>.npz``, ``.png``, ``.pdf``), before any work.

    The image id of the file's stem (:func:`spectral_attribution.data.ids.image_id`:
    letters, digits and ``._-`` kept, anything else percent-encoded, so
    ``café.jpg`` → ``café`` and ``a b.jpg`` → ``a%20b``, never confused with
    ``a_b``). Images whose stems coincide (``dog.jpg`` and ``dog.png``) are
    named by their whole file name instead (``dog.jpg``, ``dog.png``). Two
    images with the same file name (``a/x.jpg`` and ``b/x.jpg``) are refused,
    both named: explain them into different ``--out`` folders. One file given
    twice is explained twice into the same outputs.
    """
    from spectral_attribution.data.ids import image_id

    stems = [image_id(p.stem or p.name) for p in paths]
    files = {}
    for p, s in zip(paths, stems):
        files.setdefault(s, set()).add(p.resolve())
    names = [image_id(p.name) if len(files[s]) > 1 else s for p, s in zip(paths, stems)]
    first: dict[str, Path] = {}
    for p, name in zip(paths, names):
        if name in first and first[name].resolve() != p.resolve():  # one file twice: same outputs
            raise UsageError(f"{first[name]} and {p} would both write {name}.npz in --out; "
                             f"explain them into different --out folders")
        first[name] = p
    return names


def _design_inputs(args) -> int:
    """Inputs ``d`` of the Sobol' design of ``args`` (cells, or rings of a Fourier ring family)."""
    if args.method == "fourier-cam" and args.family != "grid":
        return args.grid_size
    return args.grid_size ** 2


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
            + f", batch {args.batch_size}, on {args.device}, {getattr(explainer, 'precision', 'float32')}"
            + (f"; screening {explainer.screening}: at most that many passes, typically a "
               f"fifth to a third" if getattr(explainer, "screening", None) else ""))


def _backend_line(explainer, x) -> str:
    """Which backend runs the network, built and checked now on ``x`` (the first image, (1, C, H, W))."""
    forward = getattr(explainer, "forward", None)  # the WAM differentiates the eager model
    runner = forward.runner if forward is not None else None
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

    from spectral_attribution.models.forward import available_device
    from spectral_attribution._utils.files import write_csv
    from spectral_attribution.data import load_image
    from spectral_attribution.models import load_model
    from spectral_attribution.plots import plot_explanation, save_figure
    from spectral_attribution._utils.progress import task
    from spectral_attribution.attributions.sobol.design import check_design_size

    # Every check that needs no model comes first: a bad input costs nothing.
    paths = _image_paths(args.images)
    names = _output_names(paths)
    _check_out(args.out)
    available_device(args.device)
    check_design_size(_design_inputs(args), args.nb_design)
    args.precision, args.backend = _forward_options(args)  # deprecated flags: warned once, here
    args.autocast = args.channels_last = None
    images = [load_image(p) for p in paths]  # decodes all: a bad file stops the run before any compute
    kwargs = {"checkpoint": args.checkpoint} if args.checkpoint else {}
    model = load_model(args.model, device=args.device, **kwargs)
    explainer = _explainer(args, model)
    if args.method in ("wcam", "wam"):  # the wavelet's depth limit on the prepared images, before any work
        from spectral_attribution._utils.parameters import check_levels

        for path, pil in zip(paths, images):
            try:
                check_levels(args.levels, tuple(model.prepare(pil).shape[-2:]), "--levels",
                             wavelet=args.wavelet)
            except ValueError as err:
                raise UsageError(f"{path}: {err}") from None
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.no_progress:
        print(_plan_line(args, explainer, len(paths)), file=sys.stderr, flush=True)
        # build (export, compile) and check the backend now, so the first batch's
        # time, and the estimate made from it, is the time of a forward pass
        print(_backend_line(explainer, model.prepare(images[0])[None]), file=sys.stderr, flush=True)
    rows = []
    for k, (path, pil, stem) in enumerate(zip(paths, images, names), start=1):
        x = model.prepare(pil)
        with task(f"image {k} of {len(paths)} ({path.name})"):
            [explanation] = explainer(x[None], targets=args.target)
        explanation.settings["image"] = str(path)
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
