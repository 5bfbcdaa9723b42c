"""The package version (one place; ``spectral_attribution.__version__`` re-exports it)."""

__version__ = "0.1.0"
