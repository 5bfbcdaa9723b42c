"""mu-fidelity, insertion and deletion of one shard (rule `faithfulness`)."""

from spectral_attribution.pipeline.job import logged
from spectral_attribution.pipeline.steps import faithfulness

with logged(snakemake.log[0]):
    faithfulness.faithfulness_shard(
        **dict(snakemake.params.items()),
        nickname=snakemake.wildcards.model,
        wcam_npz=snakemake.input.wcam,
        spatial_npz=snakemake.input.spatial,
        samples_csv=snakemake.input.samples,
        out_csv=snakemake.output[0],
        threads=snakemake.threads,
    )
