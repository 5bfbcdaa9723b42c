"""``spectral-attribution models``: the model registry as a table, or every
detail of one model (preprocessing, where its weights come from).
"""

from __future__ import annotations

import textwrap

from spectral_attribution.cli.parser import EXIT_OK, UsageError, WIDTH


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
