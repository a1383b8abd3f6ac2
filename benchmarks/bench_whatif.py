"""What-if speed: one facility moved, answered incrementally vs a full re-analysis.

    python benchmarks/bench_whatif.py            # the district (real streets) and the 500k city
    python benchmarks/bench_whatif.py --short    # the district only, smaller

The district is ``benchmarks/district.py`` (the shared real streets, 1,500 residences, 240
facilities), the city ``benchmarks/city.py`` (500,000 nodes, 300,000 residences, 2,000
facilities), both at the study defaults (per-facility areas and tier bands on). Each is
analysed once (network cached), then one facility of the category with the most facilities
is moved 300 m east: the what-if's answer (diff and verdicts), its service areas when asked
for, and a full re-analysis of the same edited facilities (``cjgis.analyze``, network and
layers already in memory) are timed in the same process. Median of three moves. On the
district, a planned road too (once): the what-if against a full analysis on the planned
network (the city is left out: merging a road goes through an osmnx graph of the network).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
TARGETS_S = {"district": 0.5, "city": 3.0}


def _case(name: str, study_path: Path, *, road: bool = False) -> dict[str, float]:
    import geopandas as gpd

    from cjgis.judge.analysis import analyze
    from cjgis.plan.whatif import what_if
    from cjgis.run.runner import layers_from_study, network_from_study
    from cjgis.run.study import load_study

    study = load_study(study_path)
    network = network_from_study(study)
    communities, residents, facilities = layers_from_study(study)
    analysis = analyze(
        network, communities, residents, facilities, options=study.options, verbose=False
    )
    fac = analysis.facilities
    category = fac["category"].value_counts().index[0]
    answer_s, areas_s, full_s = [], [], []
    for k in range(3):
        row = fac[fac["category"] == category].iloc[k]
        point = gpd.GeoSeries([row.geometry], crs=analysis.crs).translate(300.0, 0.0)
        lon, lat = point.to_crs("EPSG:4326").iloc[0].coords[0]
        started = time.perf_counter()
        result = what_if(analysis, move={row.facility_id: (lon, lat)})
        answer_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        after = result.analysis
        areas_s.append(time.perf_counter() - started)
        edited = result.facilities.drop(columns=["street_offset_m", "note"], errors="ignore")
        started = time.perf_counter()
        full = analyze(
            network, communities, residents, edited, options=study.options, verbose=False
        )
        full_s.append(time.perf_counter() - started)
        assert after.coverage.equals(full.coverage), "what-if and re-analysis disagree"
    out = {
        "answer": statistics.median(answer_s),
        "areas": statistics.median(areas_s),
        "full": statistics.median(full_s),
    }
    if road:
        out.update(_road(analysis, network, (communities, residents, facilities), study))
    print(
        f"{name:<9} {network.n_nodes:>9,} {len(analysis.residents):>10,} {len(fac):>6,} "
        f"{category:<13} {out['answer']:>8.2f} {out['areas']:>8.2f} {out['full']:>8.1f} "
        f"{out['full'] / out['answer']:>9.0f}x {out['answer'] / TARGETS_S[name]:>7.2f}"
    )
    if road:
        print(
            f"{'':<9} a planned road (300 m, networkx merge): answer {out['road_answer']:.2f} s, "
            f"full analysis on the planned network {out['road_full']:.2f} s"
        )
    return out


def _road(analysis, network, layers, study) -> dict[str, float]:
    """A 300 m planned road from a facility eastwards: what-if against a full analysis.

    Both merge the road into the network the same way (osmnx graph round trip, as ``cjgis
    site``), so the road's merge is in both times.
    """
    import geopandas as gpd
    import shapely

    from cjgis.judge.analysis import analyze
    from cjgis.plan.whatif import what_if
    from cjgis.streets.road_lines import network_with_planned_roads

    start = analysis.facilities.geometry.iloc[0]
    line = shapely.LineString([(start.x, start.y), (start.x + 300.0, start.y + 40.0)])
    roads = gpd.GeoDataFrame(geometry=[line], crs=analysis.crs)
    started = time.perf_counter()
    result = what_if(analysis, roads=roads)
    answer = time.perf_counter() - started
    started = time.perf_counter()
    planned, _ = network_with_planned_roads(network, roads)
    full = analyze(planned, *layers, options=study.options, verbose=False)
    full_s = time.perf_counter() - started
    assert result.analysis.coverage.equals(full.coverage), "what-if and analysis disagree"
    return {"road_answer": answer, "road_full": full_s}


def main(argv: list[str] | None = None) -> int:
    from city import city_study
    from district import district_study

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "processed")
    args = parser.parse_args(argv)
    district = district_study(args.data, short=args.short)
    print(
        f"{'study':<9} {'nodes':>9} {'residences':>10} {'fac.':>6} {'moved':<13} "
        f"{'answer s':>8} {'areas s':>8} {'full s':>8} {'full/ans':>10} {'/target':>7}"
    )
    ratios = {}
    got = _case("district", district, road=True)
    ratios["district_full_over_answer"] = got["full"] / got["answer"]
    ratios["district_answer_over_target"] = got["answer"] / TARGETS_S["district"]
    if not args.short:
        got = _case("city", city_study(args.data))
        ratios["city_full_over_answer"] = got["full"] / got["answer"]
        ratios["city_answer_over_target"] = got["answer"] / TARGETS_S["city"]
    print("\nratios: " + ", ".join(f"{k} = {v:.2f}" for k, v in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
