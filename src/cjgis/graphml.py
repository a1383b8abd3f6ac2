"""osmnx GraphML read in one streaming pass straight into arrays (no networkx graph).

A city's GraphML (hundreds of MB) made into a networkx graph by ``osmnx.load_graphml`` needs
several GiB and minutes before the first array exists. Here each ``<node>`` and ``<edge>`` is
read, its values converted as osmnx converts them (lists written as ``"[a, b]"`` read back as
lists; ``walk_excluded_hint`` kept as text), the walk filter applied, and the element freed.
"""

from __future__ import annotations

import ast
from pathlib import Path
from xml.etree.ElementTree import iterparse

import numpy as np
import shapely

from cjgis.network import StreetEdges

_NS = "{http://graphml.graphdrawing.org/xmlns}"
_KEEP_AS_TEXT = {"walk_excluded_hint"}


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
        The nodes and edges, in file order (:func:`cjgis.network.network_from_edges` makes
        them a network).
    """
    keys: dict[str, str] = {}
    ids, xs, ys = [], [], []
    us, vs, ok, wkts, names, lengths = [], [], [], [], [], []
    graph_data: dict[str, str] = {}
    graph = None
    for event, elem in iterparse(str(path), events=("start", "end")):
        tag = elem.tag[len(_NS) :] if elem.tag.startswith(_NS) else elem.tag
        if event == "start":
            if tag == "graph":
                graph = elem
            continue
        if tag == "key":
            keys[elem.get("id")] = elem.get("attr.name")
        elif tag == "node":
            data = {keys.get(d.get("key")): d.text for d in elem}
            ids.append(elem.get("id"))
            xs.append(data.get("x"))
            ys.append(data.get("y"))
            graph.remove(elem)
        elif tag == "edge":
            data = {name: _value(name, d.text) for d in elem if (name := keys.get(d.get("key")))}
            us.append(elem.get("source"))
            vs.append(elem.get("target"))
            ok.append(bool(walkable(data)))
            wkts.append(data.get("geometry"))
            names.append(data.get("name"))
            lengths.append(data.get("length"))
            graph.remove(elem)
        elif tag == "data" and graph is not None and elem in list(graph):
            graph_data[keys.get(elem.get("key"), "")] = elem.text
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
        lines=shapely.from_wkt(np.array(wkts, dtype=object)),
        walkable=np.array(ok, dtype=bool),
        name=names,
        length=lengths,
    )
