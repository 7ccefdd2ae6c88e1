"""The distortion functions, on their own."""

from __future__ import annotations

import numpy as np

from casegraph.synth.noise import (
    DateNoise,
    NameNoise,
    apply_anumber_noise,
    apply_date_noise,
    apply_name_noise,
    format_anumber,
    to_latin1,
)


def test_date_noise_kinds() -> None:
    rng = np.random.default_rng(1)
    d = np.array(["1984-03-05"] * 4000 + ["1990-07-21"] * 4000, dtype="datetime64[D]")
    out, st = apply_date_noise(rng, d, DateNoise(0.1, 0.1, 0.1, 0.1))
    vals = {str(x) for x in out}
    assert "1984-05-03" in vals                 # day and month swapped
    assert "1984-01-01" in vals                 # placeholder
    assert {"1983-03-05", "1985-03-05"} & vals  # year typo
    assert "NaT" in vals                        # missing
    assert "1990-21-07" not in vals             # a day > 12 cannot be swapped
    assert st["dob_day_month_swap"] > 0 and st["dob_missing"] > 0
    assert (out[:4000] != d[:4000]).mean() < 0.5


def test_anumber_typos_are_one_edit_and_keep_the_length() -> None:
    rng = np.random.default_rng(2)
    a = rng.integers(10_000_000, 250_000_000, 20000)
    out, present, st = apply_anumber_noise(rng, a, missing=0.1, typo=0.05, transpose=0.05)
    changed = out != a
    assert changed.any() and st["a_number_typo"] and st["a_number_transposed"]
    for x, y in zip(a[changed], out[changed]):
        sx, sy = f"{x:09d}", f"{y:09d}"
        diff = [i for i in range(9) if sx[i] != sy[i]]
        assert len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and sx[diff[0]] == sy[diff[1]])
        assert 10_000_000 <= y < 1_000_000_000
    assert 0.08 < (~present).mean() < 0.12


def test_anumber_styles() -> None:
    rng = np.random.default_rng(3)
    a = np.array([12345678, 212345678])
    yes = np.array([True, True])
    assert list(format_anumber(rng, a, yes, "A9")) == ["A012345678", "A212345678"]
    assert list(format_anumber(rng, a, yes, "dashed")) == ["012-345-678", "212-345-678"]
    assert list(format_anumber(rng, a, yes, "short")) == ["12345678", "212345678"]
    assert list(format_anumber(rng, a, np.array([False, True]), "plain9")) == [None, "212345678"]


def test_name_noise_variants_swaps_and_compounds() -> None:
    rng = np.random.default_rng(4)
    n = 5000
    given = np.array(["Mohammed"] * n, dtype=object)
    middle = np.array(["Ali"] * n, dtype=object)
    family = np.array(["García López"] * n, dtype=object)
    g, m, f, st = apply_name_noise(rng, given, middle, family, np.zeros(n, bool),
                                   np.ones(n, bool), NameNoise(variant=0.3, swap=0.05))
    assert {"Muhammad", "Mohamed"} <= set(g)
    assert "García" in set(f) and "García-López" in set(f)
    assert "Garcia Lopez" in set(f) or "Garcia" in set(f)
    assert (g == "García López").any() or (g == "García").any()   # swapped order
    assert (m == "").any() and (m == "Ali").any()
    assert st["name_order_swap"] > 0 and st["compound_shortened"] > 0
    ascii_g, _, ascii_f, _ = apply_name_noise(rng, given, middle, family, np.zeros(n, bool),
                                              np.ones(n, bool), NameNoise(ascii_only=True))
    assert all(x.isascii() for x in ascii_f) and all(x.isascii() for x in ascii_g)


def test_latin1_keeps_spanish_and_folds_the_rest() -> None:
    raw = to_latin1("JESÚS;Nguyễn;Łódź\n")
    assert raw.decode("latin-1") == "JESÚS;Nguyen;Lódz\n"  # ó is Latin-1; ễ, Ł, ź are not
