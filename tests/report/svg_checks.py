"""Read what an inline SVG figure really draws: the look of each series.

Every series a figure draws carries the id ``series-<i>`` (optionally followed by
``-panel-<j>`` in small multiples); its look is the colour, dash pattern and marker
shape found in the SVG itself, so a test of distinct looks checks the drawing, not the
code's intentions.
"""

from __future__ import annotations

import re

SVG = re.compile(r"<svg\b.*?</svg>", re.S)
GROUP = re.compile(r'<g id="[^"]*?series-(\d+)(?:-panel-\d+)?">(.*?)\n   </g>', re.S)
COLOUR = re.compile(r"(?:stroke|fill): (#[0-9a-fA-F]{6})")
DASH = re.compile(r"stroke-dasharray: ([0-9.,\s]+)")
USE = re.compile(r'<use xlink:href="#([^"]+)"')
DEF = re.compile(r'<path id="([^"]+)" d="([^"]+)"')


def svgs(html: str) -> list[str]:
    return SVG.findall(html)


def series_looks(svg: str) -> dict[int, set[tuple[str, str, str]]]:
    """series index -> the (colour, dash, marker) looks its groups are drawn with."""
    looks: dict[int, set[tuple[str, str, str]]] = {}
    shapes = dict(DEF.findall(svg))  # a marker is defined once and used by reference
    for index, body in GROUP.findall(svg):
        colour = COLOUR.search(body)
        dash = DASH.search(body)
        use = USE.search(body)
        marker = shapes.get(use.group(1)) if use else None
        looks.setdefault(int(index), set()).add((
            colour.group(1).lower() if colour else "",
            " ".join(dash.group(1).split()) if dash else "solid",
            " ".join(marker.split()) if marker else "none"))
    return looks


def clashing_series(svg: str) -> list[tuple[int, int]]:
    """Pairs of different series drawn with the same look."""
    owner: dict[tuple[str, str, str], int] = {}
    clashes = []
    for index, looks in sorted(series_looks(svg).items()):
        for look in looks:
            if look in owner and owner[look] != index:
                clashes.append((owner[look], index))
            owner.setdefault(look, index)
    return clashes
