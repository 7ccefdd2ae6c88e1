"""Records -> persons: prepare, train, score, cluster, keep ids stable, write the tables.

Two modes:

* **full** (first run, ``full=True``, or no saved model): train the model on the
  workspace's data, score every blocked pair, cluster everything, and map the new
  clusters onto the previous person ids by record overlap.
* **incremental** (default once a model exists): new or changed records are scored
  against the existing records (``predict_between``) and each other (``predict_within``)
  with the saved model; only the persons they touch (and persons touched by new human
  decisions or by withdrawn records) are re-clustered. Everything else is left alone.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from casegraph.resolve import model as rmodel
from casegraph.resolve import training as rtraining
from casegraph.resolve.components import CLUSTERS_TABLE, ComponentStats, cluster_records
from casegraph.resolve.evidence import contradiction_sql
from casegraph.resolve.onetoone import apply_one_to_one
from casegraph.resolve.outputs import (
    PAIRS_TABLE,
    _fetch,
    _insert_rows,
    _scalar,
    _write_persons,
    _write_review,
)
from casegraph.resolve.prepare import INPUT_TABLE, build_input
from casegraph.resolve.schema import ResolveConfig, config, ensure_tables
from casegraph.resolve.scoring import score_pairs_into
from casegraph.sources.schema import ensure_tables as ensure_source_tables
from casegraph.workspace import Workspace

log = logging.getLogger(__name__)

#: keep the scored pairs of the last run in ``_resolve_pairs`` (benchmarks, debugging)
KEEP_PAIRS = False


@dataclass
class ResolveReport:
    """What a resolve run did."""

    run_id: str
    mode: str                       # 'full' | 'incremental' | 'unchanged'
    records: int                    # person-bearing current records
    persons: int
    new_records: int = 0
    changed_person_ids: list[str] = field(default_factory=list)
    retired_person_ids: list[str] = field(default_factory=list)
    pairs_scored: int = 0
    review_open: int = 0
    trained: bool = False
    model_path: str | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    events: Counter[str] = field(default_factory=Counter)


class _Phases:
    """Times each phase and shows a Rich progress bar when asked."""

    def __init__(self, names: list[str], show: bool) -> None:
        self.timings: dict[str, float] = {}
        self.progress = (Progress(TextColumn("[bold]resolve[/] {task.description}"), BarColumn(),
                                  TextColumn("{task.completed}/{task.total}"),
                                  TimeElapsedColumn(), transient=True) if show else None)
        self.task = None
        self.total = len(names)

    def __enter__(self) -> _Phases:  # noqa: PYI034
        if self.progress:
            self.progress.start()
            self.task = self.progress.add_task("starting", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress:
            self.progress.stop()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=name)
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - t, 3)
            log.info("resolve phase %s: %.1fs", name, self.timings[name])
            if self.progress is not None and self.task is not None:
                self.progress.advance(self.task)


def _quiet_splink() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)


def format_person_id(n: int) -> str:
    return f"P-{n:06d}"


def _next_person_number(ws: Workspace) -> int:
    mx = _scalar(ws, """
        select max(try_cast(substr(pid, 3) as bigint)) from (
            select person_id pid from persons union all select person_id from person_events)""")
    return int(mx or 0) + 1


def latest_model_path(ws: Workspace) -> Path | None:
    if not ws.has_table("resolve_runs"):
        return None
    rows = _fetch(ws, "select model_path from resolve_runs where model_path is not null "
                      "order by started_at desc, run_id desc limit 1")
    if rows and rows[0][0] and Path(rows[0][0]).exists():
        return Path(rows[0][0])
    return None


# ---- scoring -------------------------------------------------------------------------------

def pairs_select_sql(cfg: ResolveConfig, predictions: str, *, join_input: bool = False,
                     model: dict[str, Any] | None = None) -> str:
    """The query turning Splink's predictions into scored pairs with the hard rules applied.

    ``model_p`` is Splink's probability; ``p`` is the probability clustering uses after
    the hard rules: the same valid A-number with a compatible birth date is a must-link
    (p = 1); valid A-numbers more than one edit apart, or clearly different given names
    with no shared identifier (twins), cap p at 0.001. ``join_input``: the predictions
    carry no matching columns; A-numbers are read from the input table. ``contra``: the
    pair's disagreeing non-name fields are strong evidence of two people (see
    :mod:`casegraph.resolve.evidence`; always true without the ``model``).
    """
    veto = "true" if cfg.distinct_given_names_veto else "false"
    if join_input:
        src = (f"{predictions} x join {INPUT_TABLE} ia on ia.unique_id = x.unique_id_l "
               f"join {INPUT_TABLE} ib on ib.unique_id = x.unique_id_r")
        a_l, a_r = "ia.a_number", "ib.a_number"
    else:
        src, a_l, a_r = f"{predictions} x", "x.a_number_l", "x.a_number_r"
    return f"""
        select l, r, model_p, mw, must, anum_conflict, given_veto, contra,
            case when anum_conflict then least(model_p, 0.001)
                 when must then 1.0
                 when given_veto then least(model_p, 0.001)
                 else model_p end as p
        from (
            select least(x.unique_id_l, x.unique_id_r) as l,
                greatest(x.unique_id_l, x.unique_id_r) as r,
                -- rounded: engines differ in the last bits of a float, and a near-tie
                -- between two links must not be decided by which engine scored it
                round(x.match_probability, 9) as model_p, round(x.match_weight, 6) as mw,
                coalesce({a_l} = {a_r} and x.gamma_birth_date <> 0, false) as must,
                coalesce({a_l} <> {a_r}
                         and damerau_levenshtein({a_l}, {a_r}) > 1, false) as anum_conflict,
                {veto} and x.gamma_given_name = 0 and x.gamma_a_number < 1
                    and x.gamma_passport < 1 and x.gamma_fbi < 1
                    and x.gamma_national_id < 1 as given_veto,
                coalesce({contradiction_sql(model, cfg.veto_below)}, true) as contra
            from {src}) s"""


def _materialise_pairs(ws: Workspace, predictions_table: str, cfg: ResolveConfig,
                       target: str = PAIRS_TABLE, model: dict[str, Any] | None = None) -> int:
    """Scored pairs (see :func:`pairs_select_sql`) from a materialised predictions table."""
    ws.con.execute(f"create or replace table {target} as "
                   f"{pairs_select_sql(cfg, predictions_table, model=model)}")
    return int(_scalar(ws, f"select count(*) from {target}"))


def _cluster_pairs(ws: Workspace, cfg: ResolveConfig, nodes_sql: str,
                   pairs_table: str = PAIRS_TABLE
                   ) -> tuple[dict[int, list[str]], list[tuple[str, str, float, str]]]:
    """Cluster the records selected by ``nodes_sql`` (a query with a ``unique_id`` column).

    Returns the clusters (every record, singletons included) and the refused strong links;
    each record's best link stays in ``_resolve_clusters`` for :func:`_write_links`.
    """
    demoted = apply_one_to_one(ws, cfg, pairs_table)
    st = cluster_records(ws, cfg, nodes_sql, pairs_table)
    return _clusters(ws), st.rejected + demoted


def _clusters(ws: Workspace) -> dict[int, list[str]]:
    """The record keys of each cluster of ``_resolve_clusters``."""
    # grouped in SQL: a Python loop over every record's row took 3.6 s at 1M records (load 7)
    return dict(_fetch(  # type: ignore[arg-type]
        ws, f"select cluster, list(unique_id) from {CLUSTERS_TABLE} group by cluster"))


def _bulk_insert_keys(ws: Workspace, table: str, keys: list[str]) -> None:
    import pyarrow as pa

    df = pa.table({"k": pa.array(keys, type=pa.string())})
    ws.con.register("_keys_df", df)
    ws.con.execute(f"insert into {table} select k from _keys_df")
    ws.con.unregister("_keys_df")


# ---- ids -----------------------------------------------------------------------------------

@dataclass
class _Assignment:
    person_of: dict[str, str]                      # record key -> person id
    events: list[tuple[str, str, list[str], int]]  # (event, person_id, related, record_count)
    changed: set[str]
    retired: set[str]


def assign_ids(clusters: dict[int, list[str]], old_person_of: dict[str, str],
               next_number: int, changed_records: set[str] | None = None) -> _Assignment:
    """Give each new cluster a person id: the old id it shares most records with.

    Each old id goes to at most one cluster (largest overlap first); clusters with no
    old id get a fresh one. Merges, splits, creations and retirements become events.
    """
    changed_records = changed_records or set()
    overlap: dict[tuple[int, str], int] = Counter()
    old_members: dict[str, set[str]] = defaultdict(set)
    for c, keys in clusters.items():
        for k in keys:
            pid = old_person_of.get(k)
            if pid:
                overlap[(c, pid)] += 1
    for k, pid in old_person_of.items():
        old_members[pid].add(k)
    first_key = {c: min(keys) for c, keys in clusters.items()}
    # ties go to the cluster with the smallest record key: independent of cluster numbering
    order = sorted(overlap.items(), key=lambda kv: (-kv[1], -len(clusters[kv[0][0]]),
                                                    kv[0][1], first_key[kv[0][0]]))
    id_of: dict[int, str] = {}
    used: set[str] = set()
    for (c, pid), _n in order:
        if c in id_of or pid in used:
            continue
        id_of[c] = pid
        used.add(pid)
    events: list[tuple[str, str, list[str], int]] = []
    changed: set[str] = set()
    n = next_number
    for c in sorted(clusters, key=lambda c: min(clusters[c])):
        keys = clusters[c]
        olds = sorted({old_person_of[k] for k in keys if k in old_person_of})
        if c not in id_of:
            id_of[c] = format_person_id(n)
            n += 1
            events.append(("split" if olds else "created", id_of[c], olds, len(keys)))
            changed.add(id_of[c])
            continue
        pid = id_of[c]
        if len(olds) > 1:
            events.append(("merged", pid, [o for o in olds if o != pid], len(keys)))
        if set(keys) != old_members.get(pid, set()) or changed_records & set(keys):
            changed.add(pid)
    retired = {pid for pid in old_members if pid not in used}
    person_of = {k: id_of[c] for c, keys in clusters.items() for k in keys}
    for pid in sorted(retired):
        went = sorted({person_of[k] for k in old_members[pid] if k in person_of})
        events.append(("retired", pid, went, 0))
    size = {c_pid: len(clusters[c]) for c, c_pid in id_of.items()}  # records per person
    for pid in sorted(used):
        went = sorted({person_of[k] for k in old_members[pid] if k in person_of} - {pid})
        if went:  # (a count over every record per split was quadratic at scale)
            events.append(("split", pid, went, size[pid]))
    return _Assignment(person_of, events, changed | retired, retired)


# ---- writing -------------------------------------------------------------------------------

def _write_links(ws: Workspace, person_of: dict[str, str], keys_sql: str) -> None:
    """Replace ``person_records`` rows of the records in ``keys_sql`` (query of unique_id);
    each record's link probability is its best link inside its cluster.

    The mapping goes to DuckDB as Arrow string arrays: a pandas frame of Python strings
    is scanned object by object under the GIL (6 s of a 1M-record run at load 6)."""
    import pyarrow as pa

    con = ws.con
    df = pa.table({"record_key": pa.array(list(person_of), type=pa.string()),
                   "person_id": pa.array(list(person_of.values()), type=pa.string())})
    con.register("_links_df", df)
    con.execute(f"create or replace temp table _resolve_keys as {keys_sql}")
    con.execute("delete from person_records where record_key in "
                "(select unique_id from _resolve_keys)")
    con.execute(f"""
        insert into person_records
        select i.unique_id, i.source, i.record_id, i.kind, d.person_id,
               round(coalesce(c.best_link, 1.0), 6)
        from {INPUT_TABLE} i join _links_df d on d.record_key = i.unique_id
        left join {CLUSTERS_TABLE} c on c.unique_id = i.unique_id
    """)
    con.unregister("_links_df")
    con.execute("drop table if exists _resolve_keys")


def _write_events(ws: Workspace, run_id: str, events: list[tuple[str, str, list[str], int]]
                  ) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    _insert_rows(ws, "person_events",
                 [(run_id, e, pid, json.dumps(rel), n, now) for e, pid, rel, n in events])


# ---- the run -------------------------------------------------------------------------------

def _new_run_id(ws: Workspace) -> str:
    ts = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    n = int(_scalar(ws, "select count(*) from resolve_runs") or 0) + 1
    return f"run-{n:04d}-{ts}"


#: Scores every blocked pair of an input table with a saved model into a warehouse table
#: (or, when a :data:`Clusterer` follows, into wherever that clusterer reads it); returns the
#: pair count. ``None`` scores in process (DuckDB); the Spark engine passes
#: ``casegraph.scaleout.resolve.predict_on_spark`` (or ``predict_to_lake``).
Predictor = Callable[[Workspace, str, dict[str, Any], str], int]


@dataclass
class Clustered:
    """What a :data:`Clusterer` did."""

    pairs_scored: int
    rejected: list[tuple[str, str, float, str]]   # refused strong links, for the review queue
    notes: list[str] = field(default_factory=list)
    stats: ComponentStats | None = None
    collected_pairs: int = 0                      # pairs brought to this process to merge


#: Clusters a full run's predictions where they were scored, given the predictor's target
#: and the run's model (for the pairs' ``contra``: see :func:`pairs_select_sql`): must leave ``_resolve_clusters`` (unique_id, cluster, best_link) for every input record and
#: ``_resolve_pairs`` holding at least the pairs between different clusters at or above
#: ``review_lower`` (what the write phase reads) in the warehouse. ``None`` clusters in
#: process; the Spark engine passes ``casegraph.scaleout.cluster.cluster_on_spark``.
Clusterer = Callable[[Workspace, ResolveConfig, str, dict[str, Any]], Clustered]


def resolve_workspace(ws: Workspace, full: bool = False, progress: bool | None = True,
                      predictor: Predictor | None = None, model: str | Path | None = None,
                      clusterer: Clusterer | None = None) -> ResolveReport:
    """Cluster every person-bearing current record into persons.

    Args:
        ws: the workspace (reads ``current_records``; writes this room's tables).
        full: retrain and re-cluster everything even when a saved model exists.
        progress: show a progress bar.
        predictor: where full runs score their candidate pairs (default: in process).
            Training samples pairs and stays in process; incremental runs score only the
            new records and stay in process too.
        model: a saved model (Splink JSON) to score with instead of training one; implies a
            full run. Both engines scoring with one model give identical pairs.
        clusterer: where full runs cluster the predictor's pairs (default: in process, after
            importing them); needs a ``predictor``. Incremental runs cluster in process.

    Returns:
        a :class:`ResolveReport`, with ``changed_person_ids`` (persons created, changed,
        merged, split or retired) so that search can update incrementally.
    """
    if clusterer is not None and predictor is None:
        raise ValueError("a clusterer reads the predictor's output: pass a predictor too")
    _quiet_splink()
    ensure_source_tables(ws)
    ensure_tables(ws)
    cfg = config(ws)
    run_id = _new_run_id(ws)
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    model_path = latest_model_path(ws)
    has_persons = bool(_scalar(ws, "select count(*) from person_records"))
    incremental = not full and model is None and model_path is not None and has_persons
    phases = (["prepare", "score new records", "cluster", "write"] if incremental
              else ["prepare", "train", "score pairs", "cluster", "write"])
    with _Phases(phases, bool(progress)) as ph:
        with ph.phase("prepare"):
            n = build_input(ws)
        retrain = incremental and _model_outgrown(ws, n, cfg)
        if retrain:
            incremental = False
        if incremental:
            assert model_path is not None
            report = _run_incremental(ws, cfg, run_id, n, model_path, ph)
        else:
            report = _run_full(ws, cfg, run_id, n, ph, predictor, model, clusterer)
            if retrain:
                report.notes.insert(0, "the workspace outgrew the saved model: retrained")
    report.timings = ph.timings
    report.review_open = int(_scalar(
        ws, "select count(*) from identity_review where status = 'open'") or 0)
    report.persons = int(_scalar(ws, "select count(*) from persons") or 0)
    ws.con.execute("delete from resolve_state")
    ws.con.execute(f"insert into resolve_state select unique_id, batch_id, loaded_at "
                   f"from {INPUT_TABLE}")
    ws.con.execute(
        "insert into resolve_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, report.mode, started, dt.datetime.now(dt.UTC).replace(tzinfo=None),
         report.records, report.new_records, report.persons, len(report.changed_person_ids),
         report.pairs_scored, report.review_open, report.trained, report.model_path,
         json.dumps(report.notes), json.dumps(report.timings)])
    if not KEEP_PAIRS:
        ws.con.execute(f"drop table if exists {PAIRS_TABLE}")
    return report


def _model_outgrown(ws: Workspace, n: int, cfg: ResolveConfig) -> bool:
    """True when the last trained model no longer fits the data: it was trained on prior
    weights and there is now enough data to train, or the data has more than doubled."""
    rows = _fetch(ws, "select records, trained from resolve_runs where mode = 'full' "
                      "order by started_at desc, run_id desc limit 1")
    if not rows:
        return True
    records, trained = rows[0]
    return (not trained and n >= cfg.min_train_records) or n > 2 * max(int(records or 0), 1)


def _run_full(ws: Workspace, cfg: ResolveConfig, run_id: str, n: int, ph: _Phases,
              predictor: Predictor | None = None, model: str | Path | None = None,
              clusterer: Clusterer | None = None) -> ResolveReport:
    report = ResolveReport(run_id=run_id, mode="full", records=n, persons=0, new_records=n)
    old_person_of = dict(_fetch(ws, "select record_key, person_id from person_records"))
    if n == 0:
        with ph.phase("write"):
            report.retired_person_ids = sorted(set(old_person_of.values()))
            ws.con.execute("delete from person_records")
            ws.con.execute("delete from persons")
            _write_events(ws, run_id, [("retired", p, [], 0) for p in report.retired_person_ids])
            report.changed_person_ids = report.retired_person_ids
        return report
    with ph.phase("train"):
        if model is not None:  # a model trained elsewhere (e.g. on a sample, or by DuckDB)
            linker, _sdf, _api = rtraining.make_linker(
                ws, INPUT_TABLE, json.loads(Path(model).read_text(encoding="utf-8")))
            report.notes.append(f"model {Path(model).name} reused, not retrained")
        else:
            train_table, n_train = _training_table(ws, cfg, n)
            if train_table != INPUT_TABLE:
                report.notes.append(f"trained on a random sample of {n_train:,} of {n:,} records")
            prior = min(0.5, max(1e-7, 1.0 / max(n_train, 2)))
            tf = 1.0 if n >= cfg.min_train_records else 0.0
            linker, _sdf, _api = rtraining.make_linker(ws, train_table,
                                                    rmodel.settings(prior, tf=tf))
            # u-sampling keeps the whole workspace's budget of random pairs for the rare levels
            # (an exact A-number needs many pairs to estimate), the sample's for the name
            # comparisons (training.SAMPLE_BUDGET_COMPARISONS); EM and the prior use the sample
            tr = rtraining.train(linker, n, min_records=cfg.min_train_records, n_train=n_train)
            report.trained = tr.trained
            report.notes.extend(tr.notes)
        path = ws.models_dir / f"{run_id}.json"
        linker.misc.save_model_to_json(str(path), overwrite=True)
        report.model_path = str(path)
        if model is None:
            # score with the model exactly as saved: the in-memory settings after training
            # can differ from their JSON, and the stored model must reproduce this run
            # (explanations, incremental runs and the Spark engine all load the JSON)
            linker, _sdf, _api = rtraining.make_linker(
                ws, INPUT_TABLE, json.loads(path.read_text(encoding="utf-8")))
            ws.con.execute(f"drop table if exists {TRAIN_SAMPLE_TABLE}")
    with ph.phase("score pairs"):
        saved = json.loads(path.read_text(encoding="utf-8"))
        if predictor is not None:
            predictor(ws, INPUT_TABLE, saved, "_resolve_predictions")
            if clusterer is None:
                report.pairs_scored = _materialise_pairs(ws, "_resolve_predictions", cfg,
                                                         model=saved)
                ws.con.execute("drop table if exists _resolve_predictions")
        else:
            report.pairs_scored = score_pairs_into(
                ws, linker, PAIRS_TABLE,
                lambda preds: pairs_select_sql(cfg, preds, join_input=True, model=saved))
    with ph.phase("cluster"):
        if clusterer is not None:
            done = clusterer(ws, cfg, "_resolve_predictions", saved)
            report.pairs_scored = done.pairs_scored
            report.notes.extend(done.notes)
            clusters, rejected = _clusters(ws), done.rejected
        else:
            clusters, rejected = _cluster_pairs(ws, cfg, f"select unique_id from {INPUT_TABLE}")
        # assign_ids reads the changed records only for clusters keeping an old id: none on
        # a first run (saves fetching every record key into a set)
        changed_recs = _changed_records(ws) if old_person_of else set()
        asg = assign_ids(clusters, old_person_of, _next_person_number(ws), changed_recs)
    with ph.phase("write"):
        all_sql = f"select unique_id from {INPUT_TABLE}"
        ws.con.execute("delete from person_records")
        _write_links(ws, asg.person_of, all_sql)
        ws.con.execute("delete from persons")
        _write_review(ws, cfg, run_id, all_sql, rejected)
        _write_persons(ws, cfg, run_id, "select distinct person_id from person_records")
        _write_events(ws, run_id, asg.events)
        _mark_decided_reviews(ws, run_id)
    report.changed_person_ids = sorted(asg.changed)
    report.retired_person_ids = sorted(asg.retired)
    report.events = Counter(e for e, *_ in asg.events)
    return report


TRAIN_SAMPLE_TABLE = "_resolve_train_sample"


def _training_table(ws: Workspace, cfg: ResolveConfig, n: int) -> tuple[str, int]:
    """The table a full run trains on: the input, or a random sample of it when larger than
    ``train_sample_records``.

    Records (not pairs) are sampled uniformly, so the share of true matches among the
    sample's pairs is the workspace's: the estimated prior, u and m stay unbiased, while
    u-sampling, EM and the prior estimate stop growing with the workspace. The sample is
    a hash order of the record keys: the same input always gives the same model.
    """
    cap = cfg.train_sample_records
    if not cap or n <= cap:
        return INPUT_TABLE, n
    # order the keys only (sorting the wide rows took seconds at 300k records)
    ws.con.execute(f"""create or replace table {TRAIN_SAMPLE_TABLE} as
        with k as (select unique_id from {INPUT_TABLE}
                   order by hash(unique_id), unique_id limit {int(cap)})
        select i.* from {INPUT_TABLE} i semi join k on k.unique_id = i.unique_id""")
    return TRAIN_SAMPLE_TABLE, cap


def _changed_records(ws: Workspace) -> set[str]:
    """Records that are new or have a new version since the last run."""
    return {k for (k,) in _fetch(ws, f"""
        select i.unique_id from {INPUT_TABLE} i left join resolve_state s
          on s.record_key = i.unique_id
        where s.record_key is null or s.batch_id is distinct from i.batch_id
           or s.loaded_at is distinct from i.loaded_at""")}


def _mark_decided_reviews(ws: Workspace, run_id: str) -> None:
    ws.con.execute("update identity_review set decided_run = ? where status = 'decided' "
                   "and decided_run is null", [run_id])


def _run_incremental(ws: Workspace, cfg: ResolveConfig, run_id: str, n: int,
                     model_path: Path, ph: _Phases) -> ResolveReport:
    report = ResolveReport(run_id=run_id, mode="incremental", records=n, persons=0,
                           model_path=str(model_path))
    con = ws.con
    changed = _changed_records(ws)
    removed = {k for (k,) in _fetch(ws, f"""
        select pr.record_key from person_records pr
        left join {INPUT_TABLE} i on i.unique_id = pr.record_key where i.unique_id is null""")}
    last_run_start = _scalar(ws, "select max(started_at) from resolve_runs")
    new_decisions = _fetch(ws, "select record_key_l, record_key_r from identity_decisions "
                               "where decided_at >= ?", [last_run_start])
    report.new_records = len(changed)
    old_person_of = dict(_fetch(ws, "select record_key, person_id from person_records"))
    if not changed and not removed and not new_decisions:
        report.mode = "unchanged"
        return report
    touched: set[str] = {old_person_of[k] for k in removed if k in old_person_of}
    for l, r in new_decisions:
        touched.update(old_person_of[k] for k in (l, r) if k in old_person_of)
    with ph.phase("score new records"):
        linker, _sdf_all, api = rtraining.make_linker(ws, INPUT_TABLE, str(model_path))
        saved = json.loads(model_path.read_text(encoding="utf-8"))
        for c in rmodel.TF_COLUMNS:
            linker.table_management.compute_tf_table(c)
        if changed:
            _keys_table(ws, "_resolve_changed_keys", sorted(changed))
            con.execute(f"create or replace table _resolve_new as select i.* from {INPUT_TABLE} i "
                        "join _resolve_changed_keys k on k.k = i.unique_id")
            con.execute(f"create or replace table _resolve_old as select i.* from {INPUT_TABLE} i "
                        "anti join _resolve_changed_keys k on k.k = i.unique_id")
            new_sdf = api.register("_resolve_new")
            old_sdf = api.register("_resolve_old")
            between = linker.inference.predict_between(
                old_sdf, new_sdf, threshold_match_probability=cfg.review_lower,
                warning_mode="never")
            _materialise_pairs(ws, between.physical_name, cfg, target="_resolve_between",
                               model=saved)
            between.drop_table_from_database_and_remove_from_cache()
            for (k,) in _fetch(ws, "select case when l in (select k from _resolve_changed_keys) "
                                   "then r else l end from _resolve_between "
                                   "where model_p >= ? or p >= ? or must",
                                   [cfg.review_lower, cfg.link_threshold]):
                if k in old_person_of:
                    touched.add(old_person_of[k])
            con.execute("drop table if exists _resolve_between")
        # the affected set: changed records plus every record of a touched person
        scope = set(changed) | {k for k, p in old_person_of.items() if p in touched}
        scope -= removed
        _keys_table(ws, "_resolve_scope_keys", sorted(scope))
        con.execute(f"create or replace table _resolve_scope_in as select i.* from {INPUT_TABLE} i "
                    "join _resolve_scope_keys k on k.k = i.unique_id")
        scope_sdf = api.register("_resolve_scope_in")
        within = linker.inference.predict_within(scope_sdf, warning_mode="never")
        report.pairs_scored = _materialise_pairs(ws, within.physical_name, cfg, model=saved)
        within.drop_table_from_database_and_remove_from_cache()
    with ph.phase("cluster"):
        clusters, rejected = _cluster_pairs(ws, cfg,
                                            "select k as unique_id from _resolve_scope_keys")
        old_in_scope = {k: p for k, p in old_person_of.items() if p in touched or k in scope}
        asg = assign_ids(clusters, old_in_scope, _next_person_number(ws), changed)
        # persons that lost every record (withdrawn records) and were not reassigned
    with ph.phase("write"):
        if removed:
            _keys_table(ws, "_resolve_removed_keys", sorted(removed))
            con.execute("delete from person_records where record_key in "
                        "(select k from _resolve_removed_keys)")
            con.execute("drop table if exists _resolve_removed_keys")
        _write_links(ws, asg.person_of, "select k as unique_id from _resolve_scope_keys")
        _write_review(ws, cfg, run_id, "select k as unique_id from _resolve_scope_keys",
                      rejected)
        affected = sorted(set(asg.person_of.values()) | touched | asg.retired)
        _keys_table(ws, "_resolve_affected", affected)
        con.execute("delete from persons where person_id in (select k from _resolve_affected)")
        _write_persons(ws, cfg, run_id, "select distinct k as person_id from _resolve_affected")
        _write_events(ws, run_id, asg.events)
        _mark_decided_reviews(ws, run_id)
        for t in ("_resolve_changed_keys", "_resolve_new", "_resolve_old", "_resolve_scope_keys",
                  "_resolve_scope_in", "_resolve_affected"):
            con.execute(f"drop table if exists {t}")
    report.changed_person_ids = sorted(asg.changed | touched)
    report.retired_person_ids = sorted(p for p in asg.retired)
    report.events = Counter(e for e, *_ in asg.events)
    return report


def _keys_table(ws: Workspace, name: str, keys: list[str]) -> None:
    ws.con.execute(f"create or replace table {name} (k varchar)")
    if keys:
        _bulk_insert_keys(ws, name, keys)
