"""Weight sources, one module per origin of the weights.

Each module is one source of :func:`spectral_attribution.models.load_model`
names and provides:

``PREFIX``
    The name prefix it answers (``"torchvision"`` for ``torchvision:<arch>``),
    or ``None`` when it only registers fixed names.
``PATTERN``
    The pattern shown in the "unknown model" message, or ``None``.
``builtin_specs()``
    The :class:`~spectral_attribution.models.spec.ModelSpec` entries it
    registers by name (cheap: nothing is loaded).
``dynamic_spec(rest, name)``
    The entry for ``name = f"{PREFIX}:{rest}"`` (``KeyError`` naming what
    is unknown).

The registry (:mod:`spectral_attribution.models.registry`) lists them in
``SOURCES``; a new source is a new module here plus one line there.
"""
