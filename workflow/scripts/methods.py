"""WAM against WCAM on the images of one shard (rule `methods`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import methods

with logged(snakemake.log[0]):
    variants = [key[len("wam_"):] for key in snakemake.input.keys()
                if key.startswith("wam_") and not key.endswith("_manifest")]
    methods.methods_shard(
        **dict(snakemake.params.items()),
        nickname=snakemake.wildcards.model,
        wcam_npz=snakemake.input.wcam,
        wam_npzs={variant: snakemake.input[f"wam_{variant}"] for variant in variants},
        samples_csv=snakemake.input.samples,
        out_csv=snakemake.output[0],
        threads=snakemake.threads,
    )
