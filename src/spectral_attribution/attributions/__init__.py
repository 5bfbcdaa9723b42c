"""Attribution methods: the wavelet/Fourier transforms and masks, the Sobol' engine, one module per explainer.

Layout
------
``transforms``, ``perturbations``
    The wavelet (and Fourier) transforms and the masks applied to their coefficients.
``sobol/``
    The quasi-Monte Carlo design (``design``), the Jansen estimators
    (``estimators``), the incremental rows (``row_updates``) and the batched
    engine (``engine``) every Sobol'-based explainer rests on.
``wcam``, ``fourier_cam``, ``spatial_sobol``
    One module per Sobol' explainer: WCAM and ``WaveletSobol`` (the WCAM with the
    paper's code's call), Fourier-CAM, spatial Sobol'.
``wam``
    The gradient-based wavelet attribution map (WAM).
``explanation``, ``targets``
    The :class:`Explanation` result type and the class-target rules.
"""
