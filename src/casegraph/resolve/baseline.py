"""Plain Splink, for comparison: library comparisons, simple blocking, connected components.

What a first attempt with Splink's defaults looks like on the same records; the
benchmark reports it side by side with casegraph's model so that the gain (and any
loss) of the population-specific comparisons and the non-chaining clustering is visible.
"""

from __future__ import annotations

import logging

import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from casegraph.ontology import NON_PERSON_KINDS
from casegraph.workspace import Workspace


def baseline_clusters(ws: Workspace, *, threshold: float = 0.9, seed: int = 42
                      ) -> dict[str, str]:
    """Cluster the workspace's current person-bearing records with plain Splink.

    Returns:
        {record_key: cluster id}
    """
    logging.getLogger("splink").setLevel(logging.ERROR)
    kinds = ", ".join(f"'{k}'" for k in NON_PERSON_KINDS)
    ws.con.execute(f"""
        create or replace table _baseline_input as
        select record_key as unique_id, given_name_norm as given, family_name_norm as family,
               strftime(birth_date, '%Y-%m-%d') as dob, a_number, national_id,
               postcode, street_address_norm as street
        from current_records where kind not in ({kinds})""")
    n = ws.con.execute("select count(*) from _baseline_input").fetchall()[0][0]
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("given").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("family").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("dob", [1, 2]),
            cl.ExactMatch("a_number"),
            cl.ExactMatch("national_id"),
            cl.ExactMatch("postcode"),
            cl.JaroWinklerAtThresholds("street"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given", "family"), block_on("dob"), block_on("a_number"),
            block_on("national_id"), block_on("postcode", "family"),
        ],
        probability_two_random_records_match=min(0.5, 1.0 / max(n, 2)),
    )
    api = DuckDBAPI(connection=ws.con)
    linker = Linker(api.register("_baseline_input"), settings, log_level=None)
    try:
        linker.training.estimate_u_using_random_sampling(max_pairs=min(5e6, max(1e5, n * 5.0)),
                                                         seed=seed)
        for rule in (block_on("given", "family"), block_on("dob")):
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True)
    except Exception as e:  # noqa: BLE001 - baseline: keep whatever was trained
        logging.getLogger(__name__).info("baseline training stopped early: %s", e)
    preds = linker.inference.predict(threshold_match_probability=0.01, warning_mode="never")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        preds, threshold_match_probability=threshold)
    rows = ws.con.execute(f"select unique_id, cluster_id from {clusters.physical_name}").fetchall()
    ws.con.execute("drop table if exists _baseline_input")
    return {k: str(c) for k, c in rows}
