"""Step of ``workflow/rules/models.smk``: load each model once and record it (rule ``model``)."""

from __future__ import annotations

from spectral_attribution import results
from spectral_attribution.pipeline.job import job

__all__ = ["check_model"]


def check_model(*, model: dict, nickname: str, out_json) -> dict:
    """Load a model once, on the CPU, and record what it is (``results/models/{nickname}.json``).

    ``model``: :func:`~spectral_attribution.pipeline.params.model_params`. The
    JSON holds ``nickname``, ``registry_name``, ``options``, ``source``,
    ``weights_sha256``, ``preprocessing`` and ``nb_classes`` (from one
    forward pass of a zero image of the preprocessing's crop). The CPU is
    enough for that, and this job holds no GPU.

    Raises
    ------
    KeyError, FileNotFoundError, ValueError
        From :func:`spectral_attribution.models.load_model`: unknown registry
        name, weights missing (the message names the expected path), or not a
        checkpoint.
    """
    import torch

    from spectral_attribution.models.forward import forward_logits

    with job(device="cpu", model=model) as j:
        wrapper = j.model
        size = wrapper.preprocessing.crop or 224
        nb_classes = int(forward_logits(wrapper, torch.zeros(1, 3, size, size)).shape[-1])
    info = {"nickname": nickname, "registry_name": model["name"], "options": model["options"],
            "source": getattr(wrapper, "source", ""), "weights_sha256": results.weights_hash(wrapper),
            "preprocessing": wrapper.preprocessing.as_dict(), "nb_classes": nb_classes}
    results.write_json(info, out_json)
    return info
