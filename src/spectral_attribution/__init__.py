"""spectral-attribution: WCAM, Fourier-CAM and spatial Sobol' attribution of image classifiers."""

__version__ = "0.1.0"
