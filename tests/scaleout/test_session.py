"""Spark session settings that need no Spark to check."""

from __future__ import annotations

import os

import pytest

from casegraph.scaleout.session import shuffle_partitions


def test_shuffle_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASEGRAPH_SPARK_SHUFFLE_PARTITIONS", raising=False)
    assert shuffle_partitions("local") == 2
    assert shuffle_partitions("local[2]") == 4
    assert shuffle_partitions("local[8, 3]") == 16
    assert shuffle_partitions("local[*]") == max(2, 2 * (os.cpu_count() or 1))
    assert shuffle_partitions("spark://master:7077") is None  # the cluster's setting
    monkeypatch.setenv("CASEGRAPH_SPARK_SHUFFLE_PARTITIONS", "2000")
    assert shuffle_partitions("local[2]") == 2000
