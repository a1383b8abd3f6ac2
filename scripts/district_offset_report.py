"""Report how the shared 2017 district boundaries lie against the shared Hangzhou streets.

The district file says it is GCJ-02. Read with ``crs = "gcj02"`` the 西湖/拱墅 boundary should
run along streets; this prints the median distance from samples along that boundary (every
20 m inside the street extract) to the nearest walkable street, converted and unconverted.
On the data as shipped the unconverted line fits these OSRM streets better (about 31 m vs
47 m), which suggests the street extract or the polygons are not what they declare: a
question for the data owner, hence a report and not a test (tests/test_coords.py checks the
conversion itself against an independent implementation of the published formula)::

    python scripts/district_offset_report.py [../shared]
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from cjgis.inputs.coords import projector
from cjgis.inputs.io import read_communities
from cjgis.streets.sources import network_from_file


def boundary_gaps_m(districts: gpd.GeoDataFrame, network, *, step_m: float = 20.0) -> np.ndarray:
    """Distances from samples along the 西湖/拱墅 boundary to the nearest walkable street."""
    frame = districts.set_index("name")
    line = frame.loc["西湖区"].geometry.boundary.intersection(
        frame.loc["拱墅区"].geometry.buffer(2e-4)
    )
    line = line.intersection(shapely.box(120.06, 30.27, 120.1299, 30.34))
    line_m = shapely.transform(line, projector("EPSG:4326", network.crs))
    parts = shapely.get_parts(line_m)
    samples = np.concatenate(
        [shapely.line_interpolate_point(p, np.arange(0, p.length, step_m)) for p in parts]
    )
    return network.edge_tree.query_nearest(samples, return_distance=True)[1]


def main() -> int:
    """Print the medians for the boundary as declared and as converted from GCJ-02."""
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared") / "data" / "hangzhou"
    path = shared / "hangzhou_districts_2017_gcj02.geojson"
    network = network_from_file(shared / "hz_sandun_jiangcun_osrm_streets.graphml")
    declared = gpd.read_file(path)
    converted = read_communities(path, id="id", name="name", crs="gcj02").frame
    converted = converted.rename(columns={"community_name": "name"})
    for label, frame in (("as declared (no conversion)", declared), ("GCJ-02 -> WGS84", converted)):
        gap = boundary_gaps_m(frame, network)
        print(
            f"{label:<28} {len(gap)} samples: median {np.median(gap):.1f} m, "
            f"within 15 m {np.mean(gap <= 15):.0%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
