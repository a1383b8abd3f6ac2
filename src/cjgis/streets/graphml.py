"""osmnx GraphML read in one streaming pass straight into arrays (no networkx graph).

A city's GraphML (hundreds of MB) made into a networkx graph by ``osmnx.load_graphml`` needs
several GiB and minutes before the first array exists. Here each ``<node>`` and ``<edge>`` is
read, its values converted as osmnx converts them (lists written as ``"[a, b]"`` read back as
lists; ``walk_excluded_hint`` kept as text), the walk filter applied, and the element freed.
"""

from __future__ import annotations

import ast
import html
import logging
import mmap
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import shapely

from cjgis._errors import input_error
from cjgis.streets.network import WALK_FILTER_KEYS, StreetEdges, is_walkable

_KEEP_AS_TEXT = {"walk_excluded_hint"}
log = logging.getLogger(__name__)


def _value(key: str, text: str | None):
    if text and key not in _KEEP_AS_TEXT and text[0] == "[" and text[-1] == "]":
        try:
            return ast.literal_eval(text)
        except (SyntaxError, ValueError):
            return text
    if key in _KEEP_AS_TEXT and text and text[0] == "[":
        try:  # osmnx reads "[False, True]" as a list of texts
            return [str(v) for v in ast.literal_eval(text)]
        except (SyntaxError, ValueError):
            return text
    return text


def read_graphml_edges(path: str | Path, *, walkable) -> StreetEdges:
    """Read an osmnx GraphML file's nodes and edges in one streaming pass.

    Parameters
    ----------
    path : str or pathlib.Path
        GraphML written by ``osmnx.save_graphml`` (or any GraphML with node ``x``/``y``).
    walkable : callable
        The walk filter, applied to each edge's attributes as it is read.

    Returns
    -------
    StreetEdges
        The nodes and edges, in file order (:func:`cjgis.streets.network.network_from_edges` makes
        them a network).
    """
    try:
        try:
            return _collect(_regex_elements(Path(path)), walkable=walkable)
        except _OtherLayoutError:
            log.info("%s: not in osmnx's layout; read with the XML parser", path)
            return _collect(_xml_elements(Path(path)), walkable=walkable)
    except _BadGeometryError as exc:
        raise input_error(
            path,
            f"edge {exc.edge + 1} (from node {exc.u} to {exc.v}) has a geometry that is not "
            f"WKT: {exc.text[:80]!r}",
            "write the edge's geometry as WKT, e.g. LINESTRING (120.1 30.2, 120.2 30.3), or "
            "remove it (the straight line between the nodes is then used); osmnx's "
            "save_graphml writes it so",
        ) from None


def _collect(elements: Iterator[tuple[str, dict, list]], *, walkable) -> StreetEdges:
    keys: dict[str, str] = {}
    ids, xs, ys = [], [], []
    us, vs, ok, wkts, names, lengths = [], [], [], [], [], []
    graph_data: dict[str, str] = {}
    # the walk filter's verdict depends on a few tags only: one call per combination of them
    verdicts: dict[tuple, bool] | None = {} if walkable is is_walkable else None
    for kind, attrs, data in elements:
        if kind == "key":
            keys[attrs["id"]] = attrs.get("attr.name", attrs["id"])
        elif kind == "node":
            values = {keys.get(k): text for k, text in data}
            ids.append(attrs["id"])
            xs.append(values.get("x"))
            ys.append(values.get("y"))
        elif kind == "edge":
            texts = {name: text for k, text in data if (name := keys.get(k))}
            values = {k: _value(k, t) if t and t[0] == "[" else t for k, t in texts.items()}
            if verdicts is None:
                ok.append(bool(walkable(values)))
            else:
                tags = tuple(texts.get(k) for k in WALK_FILTER_KEYS)
                if tags not in verdicts:
                    verdicts[tags] = bool(walkable(values))
                ok.append(verdicts[tags])
            us.append(attrs["source"])
            vs.append(attrs["target"])
            wkts.append(texts.get("geometry"))
            names.append(values.get("name"))
            lengths.append(texts.get("length"))
        else:  # the graph's own data
            graph_data.update((keys.get(k, k), text) for k, text in data)
    node_id = np.array(ids, dtype=object)
    if all(i.lstrip("-").isdigit() for i in ids):
        node_id = np.array([int(i) for i in ids], dtype=np.int64)
    index = {i: k for k, i in enumerate(ids)}
    return StreetEdges(
        crs=graph_data.get("crs") or "EPSG:4326",
        node_id=node_id,
        node_xy=np.column_stack([np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)]),
        u=np.array([index[u] for u in us], dtype=np.int64),
        v=np.array([index[v] for v in vs], dtype=np.int64),
        lines=_lines_from_wkt(wkts, us, vs),
        walkable=np.array(ok, dtype=bool),
        name=names,
        length=lengths,
    )


_LINESTRING = "LINESTRING ("


class _BadGeometryError(Exception):
    """An edge's geometry text that is not WKT (reported with the file by the reader)."""

    def __init__(self, edge: int, u: str, v: str, text: str) -> None:
        super().__init__(text)
        self.edge, self.u, self.v, self.text = edge, u, v, text


def _lines_from_wkt(wkts: list[str | None], us: list[str], vs: list[str]) -> np.ndarray:
    """Parse WKT; plain ``LINESTRING (x y, ...)`` all at once with numpy, the rest with GEOS.

    numpy and GEOS both read each number to the nearest double: the coordinates are the same
    (the tests compare with osmnx's reading, bit for bit). Text that is not WKT raises
    :class:`_BadGeometryError` naming the first such edge (``us``/``vs``: its node ids).
    """
    out = np.full(len(wkts), None, dtype=object)
    plain = [
        i
        for i, w in enumerate(wkts)
        if w is not None and w.startswith(_LINESTRING) and w.endswith(")") and "(" not in w[12:]
    ]
    if plain:
        bodies = [wkts[i][len(_LINESTRING) : -1] for i in plain]
        counts = np.array([b.count(",") + 1 for b in bodies], dtype=np.int64)
        numbers = np.array(" ".join(bodies).replace(",", " ").split(), dtype=float)
        if len(numbers) == 2 * counts.sum():  # x y pairs only (no Z, no EMPTY)
            xy = numbers.reshape(-1, 2)
            out[plain] = shapely.linestrings(xy, indices=np.repeat(np.arange(len(plain)), counts))
        else:
            out[plain] = _parsed([wkts[i] for i in plain])
    rest = [i for i, w in enumerate(wkts) if w is not None and out[i] is None]
    if rest:
        out[rest] = _parsed([wkts[i] for i in rest])
    bad = [i for i, w in enumerate(wkts) if w is not None and out[i] is None]
    if bad:
        raise _BadGeometryError(bad[0], us[bad[0]], vs[bad[0]], wkts[bad[0]])
    return out


def _parsed(texts: list[str]) -> np.ndarray:
    """Geometries of WKT texts; None for text that is not WKT (the caller reports it)."""
    return shapely.from_wkt(np.array(texts, dtype=object), on_invalid="ignore")


_ELEMENT = re.compile(rb"<(node|edge)\b([^>]*?)(?:/>|>(.*?)</\1\s*>)", re.S)
_DATA = re.compile(r"<data\b([^>]*?)(?:/>|>(.*?)</data\s*>)", re.S)
_PLAIN_DATA = re.compile(r'<data key="([^"]*)">([^<]*)</data>')
_KEY = re.compile(rb"<key\b([^>]*)>")
_ATTR = re.compile(r"([\w.:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_TAG = re.compile(rb"<(?:node|edge)\b")


def _text(raw: bytes | str | None) -> str | None:
    if raw is None:
        return None
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return html.unescape(text) if "&" in text else text


def _attrs(raw: bytes) -> dict[str, str]:
    return {k: _text(v or w) for k, v, w in _ATTR.findall(raw.decode("utf-8"))}


def _data(raw: bytes | None) -> list[tuple[str, str | None]]:
    if not raw:
        return []
    body = raw.decode("utf-8")
    pairs = _PLAIN_DATA.findall(body)  # osmnx: <data key="d7">254.09</data>
    if len(pairs) != body.count("<data"):
        pairs = [(_attrs(a.encode()).get("key", ""), t) for a, t in _DATA.findall(body)]
    if "&" in body:
        return [(k, _text(t)) for k, t in pairs]
    return pairs


class _OtherLayoutError(Exception):
    """The file's nodes and edges are not all in osmnx's layout."""


def _regex_elements(path: Path) -> Iterator[tuple[str, dict, list]]:
    """Yield ``(kind, attributes, [(key, text), ...])`` of keys, nodes, edges and the graph.

    osmnx (networkx) writes GraphML in one regular layout, read here by regular expressions
    over the memory-mapped file, several times faster than an XML parser. Raises
    :class:`_OtherLayoutError` for a file with comments or CDATA, and at the end when the
    nodes and edges found are not all the ``<node``/``<edge`` tags of the file.
    """
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        if mm.find(b"<!--") >= 0 or mm.find(b"<![CDATA[") >= 0:  # not osmnx's plain layout
            raise _OtherLayoutError(path)
        first = _TAG.search(mm)
        head = mm[: first.start() if first else len(mm)]
        for match in _KEY.finditer(head):
            yield "key", _attrs(match.group(1)), []
        found, end = 0, len(head)
        for match in _ELEMENT.finditer(mm, len(head)):
            found += 1
            end = match.end()
            yield match.group(1).decode(), _attrs(match.group(2)), _data(match.group(3))
        if found != sum(1 for _ in _TAG.finditer(mm)):
            raise _OtherLayoutError(path)
        graph_head = head[head.find(b"<graph") :] if b"<graph" in head else b""
        yield "graph", {}, _data(graph_head) + _data(mm[end:])


def _xml_elements(path: Path) -> Iterator[tuple[str, dict, list]]:
    """Yield what :func:`_regex_elements` yields, from the XML parser (any GraphML layout)."""
    from xml.etree.ElementTree import iterparse

    graph, graph_data = None, []
    for event, elem in iterparse(str(path), events=("start", "end")):
        tag = elem.tag.rsplit("}", 1)[-1]
        if event == "start":
            graph = elem if tag == "graph" else graph
        elif tag == "key":
            yield "key", dict(elem.attrib), []
        elif tag in ("node", "edge"):
            yield tag, dict(elem.attrib), [(d.get("key", ""), d.text) for d in elem]
            graph.remove(elem)  # streamed: the element is freed
        elif tag == "graph":
            graph_data = [(d.get("key", ""), d.text) for d in elem if d.tag.endswith("data")]
    yield "graph", {}, graph_data
