"""u-sampling budgets: the name comparisons on the training sample's budget, the rest on
the workspace's (``training._estimate_u``).

Speed work must not change what the identifier and date comparisons learn: with the same
budget and seed, Splink samples the same records, so their u must equal a single
whole-model call's exactly; the name comparisons must get what a call with the sample's
budget gives them.
"""

from __future__ import annotations

from splink import DuckDBAPI, Linker

from casegraph.resolve import model as rmodel
from casegraph.resolve import training as rtraining
from casegraph.resolve.prepare import INPUT_TABLE, build_input
from casegraph.workspace import Workspace


def _linker(ws: Workspace) -> Linker:
    return Linker(DuckDBAPI(connection=ws.con).register(INPUT_TABLE), rmodel.settings(1e-3),
                  log_level=None)


def _u(linker: Linker) -> dict[str, list[object]]:
    return {c.output_column_name: [cl._u_probability for cl in c.comparison_levels
                                   if not cl.is_null_level]
            for c in linker._settings_obj.comparisons}


def test_name_comparisons_get_the_sample_budget_the_rest_the_workspace_budget(
        ws: Workspace) -> None:
    from casegraph.resolve.evaluate import load_febrl

    load_febrl(ws, "febrl1")
    build_input(ws)
    n_records, n_train = 30_000, 20_000            # budgets 1.5e5 and 1e5 random pairs
    full, small = rtraining._u_budget(n_records), rtraining._u_budget(n_train)
    assert (full, small) == (1.5e5, 1e5)

    split = _linker(ws)
    order = [c.output_column_name for c in split._settings_obj.comparisons]
    rtraining._estimate_u(split, n_records, n_train, seed=42)
    assert [c.output_column_name for c in split._settings_obj.comparisons] == order

    whole = _linker(ws)
    whole.training.estimate_u_using_random_sampling(max_pairs=full, seed=42)
    sampled = _linker(ws)
    sampled.training.estimate_u_using_random_sampling(max_pairs=small, seed=42)

    got, want_full, want_small = _u(split), _u(whole), _u(sampled)
    for name in order:
        want = want_small if name in rtraining.SAMPLE_BUDGET_COMPARISONS else want_full
        assert got[name] == want[name], name
    assert any(got[n] != want_full[n] for n in rtraining.SAMPLE_BUDGET_COMPARISONS)


def test_one_budget_when_the_sample_is_the_workspace(ws: Workspace) -> None:
    from casegraph.resolve.evaluate import load_febrl

    load_febrl(ws, "febrl1")
    build_input(ws)
    split, whole = _linker(ws), _linker(ws)
    rtraining._estimate_u(split, 20_000, 20_000, seed=7)
    whole.training.estimate_u_using_random_sampling(max_pairs=rtraining._u_budget(20_000),
                                                    seed=7)
    assert _u(split) == _u(whole)
