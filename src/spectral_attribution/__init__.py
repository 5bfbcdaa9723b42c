"""spectral-attribution: WCAM, Fourier-CAM, spatial Sobol' and WAM attribution of image classifiers.

The public names are importable from the package itself::

    from spectral_attribution import WCAM, FourierCAM, SpatialSobol, WaveletSobol, WAM, Explanation, load_model

They are imported on first use (PEP 562 module ``__getattr__``), so that
``import spectral_attribution`` stays cheap (no torch) for tools that only
need a submodule, such as Snakemake building the workflow's DAG from
:mod:`spectral_attribution.pipeline`.
"""

from spectral_attribution._version import __version__

#: Public name -> submodule that defines it.
_EXPORTS = {
    "WCAM": "attributions.wcam",
    "FourierCAM": "attributions.fourier_cam",
    "SpatialSobol": "attributions.spatial_sobol",
    "WaveletSobol": "attributions.wcam",
    "WAM": "attributions.wam",
    "SobolAttribution": "attributions.sobol.engine",
    "Explanation": "attributions.explanation",
    "load_model": "models",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'spectral_attribution' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
