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

Modules: :mod:`~spectral_attribution.cli.parser` (the parser, its validators,
the exit statuses), one per sub-command (:mod:`~spectral_attribution.cli.explain`,
:mod:`~spectral_attribution.cli.show`, :mod:`~spectral_attribution.cli.models`)
and :mod:`~spectral_attribution.cli.main` (the entry point and error
handling). Their public names are re-exported here; ``cli.main`` is the
function (the console script ``spectral_attribution.cli:main``).
"""

from spectral_attribution.cli.parser import (  # noqa: F401
    METHODS,
    EXIT_OK,
    EXIT_FAILURE,
    EXIT_USAGE,
    EXIT_INTERRUPTED,
    PROG,
    WIDTH,
    UsageError,
    VALIDATORS,
    add_explain_options,
    build_parser,
    parse_args,
    _grid_family,
)
from spectral_attribution.cli.explain import (  # noqa: F401
    cmd_explain,
    _forward_options,
)
from spectral_attribution.cli.show import (  # noqa: F401
    cmd_show,
)
from spectral_attribution.cli.models import (  # noqa: F401
    models_table,
    model_details,
    cmd_models,
)
from spectral_attribution.cli.main import (  # noqa: F401
    INPUT_ERRORS,
    error_line,
    main,
)
