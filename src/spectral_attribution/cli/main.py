"""Entry point of ``spectral-attribution`` (:func:`main`) and its error handling:
an input error exits with status 2, any other failure with 1, Ctrl-C with 130,
each as one line on stderr (the traceback with ``--debug``).
"""

from __future__ import annotations

import sys
import traceback

from spectral_attribution.cli.explain import cmd_explain
from spectral_attribution.cli.models import cmd_models
from spectral_attribution.cli.parser import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    PROG,
    UsageError,
    parse_args,
)
from spectral_attribution.cli.show import cmd_show


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
