"""On-disk cache of projected walking networks, so a second run does not parse the source.

A cached network is plain arrays (node coordinates and ids, edge ends and lengths, edge
vertices with the edge each belongs to, and the CSR matrix; no pickle) in one ``.npz`` file,
keyed by the source's content hash, the walk-filter version, the CRS and the components.
Corrupt or stale files are rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS
from scipy.sparse import csr_matrix

from cjgis._atomic import atomic_path
from cjgis.streets.network import Network, segments_of_coordinates

log = logging.getLogger(__name__)

#: Default cache folder, relative to the current folder (``[network] cache_dir``).
CACHE_DIR = Path("cache")
#: Bump when the walk filter or the network arrays change meaning.
FORMAT_VERSION = "5"  # 2: OSM walk filter; 3: vertices, CSR; 4: twins, names; 5: barriers


def cache_key(source: str | Path | None, **settings: object) -> str:
    """Content hash of ``source`` (a file, or a ``.gdb`` folder) plus the settings that matter."""
    digest = hashlib.sha256()
    if source is not None:
        source = Path(source)
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        for file in files:  # a File Geodatabase is a folder: each file, name and content
            if source.is_dir():
                digest.update(file.relative_to(source).as_posix().encode())
            with file.open("rb") as handle:
                for block in iter(lambda handle=handle: handle.read(1 << 20), b""):
                    digest.update(block)
    digest.update(repr(sorted({**settings, "format": FORMAT_VERSION}.items())).encode())
    return digest.hexdigest()[:24]


def _pack(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LineStrings as their vertices and, per vertex, the line it belongs to."""
    if len(lines) == 0:
        return np.empty((0, 2)), np.empty(0, dtype=np.int64)
    return shapely.get_coordinates(lines, return_index=True)


def _unpack(xy: np.ndarray, owner: np.ndarray) -> np.ndarray:
    return shapely.linestrings(xy, indices=owner) if len(xy) else np.empty(0, dtype=object)


def save_network(network: Network, path: str | Path) -> Path:
    """Write a network's arrays to ``path`` (``.npz``), atomically."""
    edges, edge_owner = _pack(network.edge_geometry)
    fragments, fragment_owner = _pack(network.fragment_geometry)
    barriers, barrier_owner = _pack(network.barrier_geometry)
    graph = network.graph
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(
                handle,
                crs=np.array(network.crs.to_wkt()),
                node_id=network.node_id,
                node_x=network.node_x,
                node_y=network.node_y,
                edge_u=network.edge_u,
                edge_v=network.edge_v,
                edge_length_m=network.edge_length_m,
                edge_xy=edges,
                edge_owner=edge_owner,
                fragment_xy=fragments,
                fragment_owner=fragment_owner,
                csr_data=graph.data,
                csr_indices=graph.indices,
                csr_indptr=graph.indptr,
                dropped_edges=np.array(network.dropped_edges),
                edge_name=np.asarray(network.edge_name, dtype=str),
                edge_elevated=np.asarray(network.edge_elevated, dtype=bool),
                barrier_xy=barriers,
                barrier_owner=barrier_owner,
            )
    return Path(path)


def load_network(path: str | Path) -> Network:
    """Read a network written by :func:`save_network`."""
    with np.load(path, allow_pickle=False) as data:
        edge_xy, edge_owner = data["edge_xy"], data["edge_owner"]
        network = Network(
            crs=CRS.from_wkt(str(data["crs"])),
            node_id=data["node_id"],
            node_x=data["node_x"],
            node_y=data["node_y"],
            edge_u=data["edge_u"],
            edge_v=data["edge_v"],
            edge_length_m=data["edge_length_m"],
            edge_geometry=_unpack(edge_xy, edge_owner),
            dropped_edges=int(data["dropped_edges"]),
            fragment_geometry=_unpack(data["fragment_xy"], data["fragment_owner"]),
            edge_name=data["edge_name"],
            edge_elevated=data["edge_elevated"]
            if "edge_elevated" in data.files
            else np.empty(0, dtype=bool),
            barrier_geometry=_unpack(data["barrier_xy"], data["barrier_owner"]),
        )
        n = network.n_nodes
        csr = csr_matrix((data["csr_data"], data["csr_indices"], data["csr_indptr"]), shape=(n, n))
    segments = segments_of_coordinates(edge_xy, edge_owner, network.n_edges)
    network.__dict__["graph"] = csr  # the cached_property, saved rather than rebuilt
    network.__dict__["segments"] = segments  # from the coordinates read, not from the lines
    return network


def cached_network(
    source: str | Path | None, build, *, cache_dir: str | Path, **settings
) -> Network:
    """Return the cached network for ``source`` and ``settings``, building it on a miss.

    Parameters
    ----------
    source : str or pathlib.Path or None
        The network's source file (hashed for the key); None for a download, which is
        keyed by its settings (place or bbox) alone.
    build : callable
        Called with no arguments to build the network on a miss.
    cache_dir : str or pathlib.Path
        Folder of cache files (created if missing).
    **settings
        What else shapes the network (CRS, components); part of the key.
    """
    if source is not None and not Path(source).exists():
        return build()  # the builder reports the missing file with its fix
    path = Path(cache_dir) / f"network-{cache_key(source, **settings)}.npz"
    if path.is_file():
        try:
            network = load_network(path)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("cache %s unreadable (%s): rebuilding it", path, exc)
        else:
            log.info(
                "network from cache %s (%d nodes, %d edges)",
                path.name,
                network.n_nodes,
                network.n_edges,
            )
            return network
    network = build()
    save_network(network, path)
    log.info("network cached as %s", path)
    return network
