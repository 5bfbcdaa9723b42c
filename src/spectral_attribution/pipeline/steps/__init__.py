"""The steps of the workflow: one module per rule file, named after it.

``workflow/rules/<name>.smk`` → :mod:`spectral_attribution.pipeline.steps.<name>`;
each module holds the functions its rules' scripts (``workflow/scripts/*.py``)
call, one hop: script → step. ``common`` holds the step of the ``*_merge``
rules that several rule files share (the rule file ``common.smk`` holds the
helpers shared by the rules).

========================  =====================================================
module                    rules → function
========================  =====================================================
:mod:`.common`            ``*_merge`` → :func:`~.common.concat_tables`
:mod:`.data`              ``samples`` → :func:`~.data.prepare_samples`
:mod:`.models`            ``model`` → :func:`~.models.check_model`
:mod:`.wcam`              ``wcam``, ``spatial_sobol`` → :func:`~.wcam.explain_shard`
:mod:`.corruptions`       ``corruption_baseline``, ``robustness``, ``select_corrupted``
:mod:`.reconstruction`    ``reconstruction`` → :func:`~.reconstruction.reconstruction_shard`
:mod:`.zoom`              ``zoom`` → :func:`~.zoom.zoom_shard`
:mod:`.faithfulness`      ``faithfulness`` → :func:`~.faithfulness.faithfulness_shard`
:mod:`.baselines`         ``depth_baselines``, ``wcam_noise``
:mod:`.methods`           ``wam``, ``methods`` → :func:`~.methods.wam_shard`, :func:`~.methods.methods_shard`
:mod:`.tables`            ``table_*`` → :func:`~.tables.make_table`
:mod:`.figures`           ``figure_*`` → :func:`~.figures.make_figure`
========================  =====================================================

The steps take their rule's ``params`` (:mod:`spectral_attribution.pipeline.params`)
as keyword arguments of the same names, read their inputs, run the package's
studies / explainers / plots inside :func:`spectral_attribution.pipeline.job.job`
and write their outputs atomically (:mod:`spectral_attribution.results`).
"""
