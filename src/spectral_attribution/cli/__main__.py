"""``python -m spectral_attribution.cli``: the same command as ``spectral-attribution``."""

import sys

from spectral_attribution.cli import main

sys.exit(main())
