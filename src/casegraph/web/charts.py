"""Small server-side SVG charts: no chart library, no JavaScript, no internet.

Each function returns ``Markup`` holding one ``<svg role="img">`` with an ``aria-label``
and a ``<title>`` per mark (hover tooltip); pages put the same numbers in a table next to
the chart for screen readers and exact reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

#: Colour-blind-safe palette (Okabe-Ito), dark enough on white for marks.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#6a6a6a",
           "#000000")
POS, NEG, TOTAL = "#1b6e3a", "#b3261e", "#0b3d91"


def _e(s: object) -> str:
    return escape(str(s), quote=True)


def _fmt(v: float, digits: int = 2) -> str:
    s = f"{v:+.{digits}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def hbar(items: Sequence[tuple[str, float]], *, label: str, unit: str = "",
         width: int = 560) -> Markup:
    """Horizontal bars around zero (e.g. priority contributions); negatives go left, in red."""
    if not items:
        return Markup("")
    row_h, pad_l, pad_r = 26, 190, 60
    h = row_h * len(items) + 24
    lo = min(0.0, min(v for _, v in items))
    hi = max(0.0, max(v for _, v in items))
    span = (hi - lo) or 1.0
    plot_w = width - pad_l - pad_r
    x0 = pad_l + plot_w * (0 - lo) / span
    out = [(f'<svg class="chart" viewBox="0 0 {width} {h}" width="100%" role="img" '
            f'aria-label="{_e(label)}" xmlns="http://www.w3.org/2000/svg">')]
    for i, (name, v) in enumerate(items):
        y = 8 + i * row_h
        x1 = pad_l + plot_w * (v - lo) / span
        bx, bw = min(x0, x1), max(abs(x1 - x0), 1.5)
        colour = POS if v >= 0 else NEG
        out.append(f'<g><title>{_e(name)}: {_fmt(v)}{_e(unit)}</title>'
                   f'<text x="{pad_l - 8}" y="{y + 15}" text-anchor="end" class="lbl">'
                   f'{_e(name[:28])}</text>'
                   f'<rect x="{bx:.1f}" y="{y + 3}" width="{bw:.1f}" height="{row_h - 8}" '
                   f'fill="{colour}"/>'
                   f'<text x="{max(x0, x1) + 4:.1f}" y="{y + 15}" class="val">{_fmt(v)}</text></g>')
    out.append(f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="4" y2="{h - 14}" stroke="#333"/>')
    out.append("</svg>")
    return Markup("".join(out))


def waterfall(start: tuple[str, float], steps: Sequence[tuple[str, float]],
              end_label: str, *, label: str, width: int = 640) -> Markup:
    """Waterfall: a starting value, signed steps, and the final total (match weight)."""
    bars: list[tuple[str, float, float, str]] = []  # name, from, to, kind
    acc = start[1]
    bars.append((start[0], 0.0, acc, "total"))
    for name, v in steps:
        bars.append((name, acc, acc + v, "step"))
        acc += v
    bars.append((end_label, 0.0, acc, "total"))
    lo = min(0.0, *(min(a, b) for _, a, b, _ in bars))
    hi = max(0.0, *(max(a, b) for _, a, b, _ in bars))
    span = (hi - lo) or 1.0
    h, pad_t, pad_b, pad_l = 260, 16, 70, 44
    plot_h = h - pad_t - pad_b
    n = len(bars)
    col_w = (width - pad_l - 10) / n

    def y(v: float) -> float:
        return pad_t + plot_h * (hi - v) / span

    out = [(f'<svg class="chart" viewBox="0 0 {width} {h}" width="100%" role="img" '
            f'aria-label="{_e(label)}" xmlns="http://www.w3.org/2000/svg">')]
    # gridline at zero and axis labels
    out.append(f'<line x1="{pad_l}" x2="{width - 6}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
               f'stroke="#333"/>')
    for tick in (lo, hi):
        out.append(f'<text x="{pad_l - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" '
                   f'class="val">{tick:.1f}</text>')
    prev_end = None
    for i, (name, a, b, kind) in enumerate(bars):
        x = pad_l + i * col_w + 4
        top, bot = y(max(a, b)), y(min(a, b))
        colour = TOTAL if kind == "total" else (POS if b >= a else NEG)
        delta = b - a
        tip = (f"{name}: {b:.2f}" if kind == "total" else f"{name}: {_fmt(delta)}")
        out.append(f'<g><title>{_e(tip)}</title>'
                   f'<rect x="{x:.1f}" y="{top:.1f}" width="{col_w - 8:.1f}" '
                   f'height="{max(bot - top, 1.5):.1f}" fill="{colour}"/>'
                   f'<text x="{x + (col_w - 8) / 2:.1f}" y="{top - 3:.1f}" text-anchor="middle" '
                   f'class="val">{_e(f"{b:.1f}" if kind == "total" else _fmt(delta, 1))}</text>'
                   f'<text transform="translate({x + (col_w - 8) / 2:.1f},{h - pad_b + 12}) '
                   f'rotate(35)" class="lbl">{_e(name[:18])}</text></g>')
        if prev_end is not None and kind == "step":
            out.append(f'<line x1="{x - 8:.1f}" x2="{x:.1f}" y1="{y(prev_end):.1f}" '
                       f'y2="{y(prev_end):.1f}" stroke="#888" stroke-dasharray="2,2"/>')
        prev_end = b
    out.append("</svg>")
    return Markup("".join(out))


def stacked_columns(periods: Sequence[str], series: dict[str, Sequence[float]], *,
                    label: str, width: int = 640, height: int = 240) -> Markup:
    """Stacked columns over time (e.g. departures per month by channel), with a legend."""
    if not periods or not series:
        return Markup("")
    totals = [sum(vals[i] for vals in series.values()) for i in range(len(periods))]
    top = max(totals) or 1
    pad_l, pad_b, pad_t = 40, 46, 10
    plot_h = height - pad_b - pad_t
    col_w = (width - pad_l - 10) / len(periods)
    names = list(series)
    legend_h = 18 * ((len(names) + 3) // 4)
    total_h = height + legend_h
    out = [(f'<svg class="chart" viewBox="0 0 {width} {total_h}" width="100%" role="img" '
            f'aria-label="{_e(label)}" xmlns="http://www.w3.org/2000/svg">')]
    out.append(f'<line x1="{pad_l}" x2="{width - 6}" y1="{pad_t + plot_h}" '
               f'y2="{pad_t + plot_h}" stroke="#333"/>')
    out.append(f'<text x="{pad_l - 4}" y="{pad_t + 8}" text-anchor="end" class="val">{top:g}'
               f'</text><text x="{pad_l - 4}" y="{pad_t + plot_h}" text-anchor="end" '
               f'class="val">0</text>')
    every = max(1, len(periods) // 12)
    for i, period in enumerate(periods):
        x = pad_l + i * col_w + 2
        ybase = pad_t + plot_h
        for j, name in enumerate(names):
            v = series[name][i]
            if not v:
                continue
            hgt = plot_h * v / top
            ybase -= hgt
            out.append(f'<rect x="{x:.1f}" y="{ybase:.1f}" width="{max(col_w - 4, 1):.1f}" '
                       f'height="{hgt:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                       f'<title>{_e(period)} · {_e(name)}: {v:g}</title></rect>')
        if i % every == 0:
            out.append(f'<text x="{x + col_w / 2:.1f}" y="{pad_t + plot_h + 14}" '
                       f'text-anchor="middle" class="lbl">{_e(period)}</text>')
    for j, name in enumerate(names):
        lx = pad_l + (j % 4) * ((width - pad_l) / 4)
        ly = height + 18 * (j // 4)
        out.append(f'<rect x="{lx:.1f}" y="{ly - 10}" width="12" height="12" '
                   f'fill="{PALETTE[j % len(PALETTE)]}"/><text x="{lx + 16:.1f}" y="{ly}" '
                   f'class="lbl">{_e(name)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def meter(used: float, capacity: float, *, label: str, share: bool = False) -> Markup:
    """One horizontal fill bar. Occupancy (default): amber ≥ 85 %, red over 100 %;
    ``share=True``: a plain proportion in one colour."""
    cap = capacity or 0
    frac = (used / cap) if cap else 0.0
    colour = TOTAL if share else NEG if frac > 1 else ("#8a5a00" if frac >= 0.85 else POS)
    w = min(frac, 1.0) * 100
    return Markup(
        f'<svg class="meter" viewBox="0 0 200 14" width="200" height="14" role="img" '
        f'aria-label="{_e(label)}: {used:g} of {cap:g} ({frac:.0%})" '
        f'xmlns="http://www.w3.org/2000/svg"><rect width="200" height="14" fill="#e6e6e6"/>'
        f'<rect width="{2 * w:.1f}" height="14" fill="{colour}"/>'
        f'<title>{_e(label)}: {used:g} / {cap:g} ({frac:.0%})</title></svg>')
