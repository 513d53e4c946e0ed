"""Bar charts as inline SVG, rendered on the server (no script, no external file).

Labels are escaped here, so the returned `Markup` can go straight into a template. Colours are
presentation attributes, not `style`, so the page's CSP needs no `unsafe-inline`.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["bar_chart"]

_W, _H, _PAD, _AXIS = 640, 200, 24, 28


def bar_chart(title: str, bars: Sequence[tuple[str, int]], *, unit: str = "requests") -> Markup:
    """A vertical bar chart of (label, value) pairs, with a title for screen readers."""
    n = max(1, len(bars))
    top = max([v for _, v in bars] + [1])
    slot = (_W - 2 * _PAD) / n
    width = max(2.0, slot * 0.7)
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H + _AXIS}" role="img"'
        f' aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{_PAD}" y1="{_H}" x2="{_W - _PAD}" y2="{_H}" stroke="#888"/>',
    ]
    step = max(1, n // 12)  # at most a dozen labels on the axis
    for i, (label, value) in enumerate(bars):
        height = (_H - _PAD) * value / top
        x = _PAD + i * slot + (slot - width) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{_H - height:.1f}" width="{width:.1f}" height="{height:.1f}"'
            f' fill="#2a6f97"><title>{escape(label)}: {value} {escape(unit)}</title></rect>'
        )
        if i % step == 0:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{_H + 16}" font-size="11"'
                f' text-anchor="middle" fill="#333">{escape(label)}</text>'
            )
    if not bars:
        parts.append(f'<text x="{_W / 2}" y="{_H / 2}" text-anchor="middle">no data</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or a number
