"""What a study names, read: its walking network (cached) and its three layers.

Every command builds a study's network the same way, through :func:`network_from_study`:
the ``[network]`` source (file, place or bbox), an OSM extract clipped to the communities
plus ``clip_margin_m``, ``[network] planned`` roads merged in, ``components`` applied, and the
result cached by content and settings. :func:`layers_from_study` reads the communities,
residents (from a layer, a raster or community totals, plus those living outside) and
facilities. :func:`analyze_study` reads both and runs the pure :func:`cjgis.judge.analysis.analyze`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields, replace
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd

from cjgis._errors import CjgisError, InputError, input_error
from cjgis.inputs._validate import require_columns
from cjgis.inputs.database import DatabaseSource
from cjgis.inputs.demand import (
    combine,
    residents_from_raster,
    residents_from_totals,
    residents_outside,
)
from cjgis.inputs.io import Layer, read_any, read_communities, read_facilities, read_residents
from cjgis.judge.analysis import Analysis, analyze_areas_later
from cjgis.reach.partition import Partition
from cjgis.run.study import (
    CommunitiesSection,
    FacilitiesSection,
    PlannedCommunitiesSection,
    PlannedResidentsSection,
    PlannedRoadsSection,
    ResidentsSection,
    Study,
)
from cjgis.streets.cache import cache_key, cached_network
from cjgis.streets.network import Network, network_from_graph
from cjgis.streets.road_lines import add_planned_roads, read_road_lines
from cjgis.streets.sources import (
    checked_network,
    download_street_graph,
    is_osm,
    lonlat_box,
    network_from_file,
    read_street_graph,
)

log = logging.getLogger(__name__)


def _read_communities(section: CommunitiesSection, *, totals: dict[str, str] | None = None):
    return read_communities(
        section.path,
        id=section.id,
        name=section.name,
        crs=section.crs,
        totals=totals or {},
        encoding=section.encoding,
        layer=section.layer,
    )


def clip_box(study: Study) -> tuple[float, float, float, float]:
    """WGS84 box of the study's communities grown by ``[network] clip_margin_m``."""
    communities = _read_communities(study.communities)
    return lonlat_box(communities.frame, margin_m=study.network.clip_margin_m)


def street_graph_from_study(
    study: Study, *, clip_lonlat: tuple[float, float, float, float] | None = None
) -> nx.MultiDiGraph:
    """Return the street graph the study's ``[network]`` names (file or download).

    An OSM extract is clipped to ``clip_lonlat``, by default :func:`clip_box`; ``[network]
    planned`` road lines are merged in (see :func:`cjgis.streets.road_lines.add_planned_roads`).
    """
    net = study.network
    if net.path is None:
        graph = download_street_graph(place=net.place, bbox=net.bbox, cache_dir=net.cache_dir)
    else:
        graph = read_street_graph(
            net.path,
            clip_lonlat=clip_lonlat or (clip_box(study) if _is_osm(net.path) else None),
            crs=net.crs,
            join_m=net.join_m,
            layer=net.layer,
            layers=net.layers,
            bridge_layers=net.bridge_layers,
            encoding=net.encoding,
        )
    if net.planned is not None:
        roads = read_road_lines(net.planned, section="[network] planned")
        graph, joins = add_planned_roads(graph, roads, join_m=net.planned_join_m)
        log.info(
            "planned roads %s: %d lines merged, %d of %d ends joined to existing streets",
            net.planned.name,
            len(roads),
            joins["distance_m"].notna().sum(),
            len(joins),
        )
    return graph


def network_from_study(study: Study) -> Network:
    """Return the study's walking network, from the cache when the sources are unchanged."""
    net, crs = study.network, study.options.crs
    osm = _is_osm(net.path) and net.path.is_file()
    clip = clip_box(study) if osm else None  # read once: for the reader and the cache key

    def build() -> Network:
        if net.path is not None and net.planned is None:
            return network_from_file(
                net.path,
                crs=crs,
                components=net.components,
                clip_lonlat=clip,
                source_crs=net.crs,
                join_m=net.join_m,
                layer=net.layer,
                layers=net.layers,
                bridge_layers=net.bridge_layers,
                encoding=net.encoding,
            )
        graph = street_graph_from_study(study, clip_lonlat=clip)
        network = network_from_graph(graph, crs=crs, components=net.components)
        return checked_network(network, net.label)

    if isinstance(net.path, DatabaseSource):
        log.info("%s: road lines from a database, read and built every run (not cached)", net.path)
        return build()
    if not net.cache or (net.path is not None and not net.path.exists()):
        return build()  # the reader reports a missing file with its fix
    settings = {
        "crs": crs,
        "components": net.components,
        "source_crs": net.crs,
        "join_m": net.join_m,
        "layer": net.layer,
        "planned_join_m": net.planned_join_m,
        "place": net.place,
        "bbox": None if net.bbox is None else list(net.bbox),
    }
    drawing = {"layers": net.layers, "bridge_layers": net.bridge_layers, "encoding": net.encoding}
    settings.update({k: v for k, v in drawing.items() if v})  # set only: older keys stay valid
    if net.planned is not None:
        settings["planned"] = cache_key(net.planned)
    if clip is not None:
        settings["clip"] = tuple(round(v, 4) for v in clip)
    return cached_network(net.path, build, cache_dir=net.cache_dir, **settings)


def layers_from_study(study: Study) -> tuple[Layer, Layer, Layer]:
    """Read the communities, residents and facilities a study file names."""
    totals = study.residents.totals()
    communities = _read_communities(study.communities, totals=totals)
    residents = _read_residents(study.residents, communities, totals)
    if totals:  # a community whose total is not a count is in residents.rejected, with why
        frame = communities.frame
        keep = frame["_total_problem"].isna()
        communities = Layer(
            frame.loc[keep].drop(columns="_total_problem"), communities.rejected, communities.file
        )
    return communities, residents, read_study_facilities(study, study.facilities.path)


def read_planned_residents(section: PlannedResidentsSection) -> Layer:
    """Read a new site's planned buildings with the columns of their ``[planned]`` section.

    Persons from households (``household_size``) and the elderly from ``elderly_share`` where
    the drawing has no such counts, each estimate named in the residences' ``note``.
    """
    return read_residents(section.path, **_keys_of(section, leave_out=("path",)))


def read_planned_communities(section: PlannedCommunitiesSection) -> Layer:
    """Read a new site's boundary (``[planned] communities``): a community as planned."""
    return read_communities(
        section.path,
        id=section.id,
        name=section.name,
        crs=section.crs,
        encoding=section.encoding,
        layer=section.layer,
        section=section.section,
    )


def read_planned_roads(section: PlannedRoadsSection) -> gpd.GeoDataFrame:
    """Read planned road lines: CRS checked, ``road_id``/``road_name`` from the named columns.

    With ``grade`` the road's vertical level comes from that column (0 at grade, non-zero a
    bridge or tunnel) instead of the ``bridge``, ``tunnel`` and ``layer`` columns; a value
    that is not a whole number is an error naming the row.
    """
    roads = read_road_lines(
        section.path,
        crs=section.crs,
        encoding=section.encoding,
        layer=section.layer,
        layers=section.layers,
        bridge_layers=section.bridge_layers,
        section=section.section,
    )
    named = [c for c in (section.id, section.name, section.grade) if c]
    require_columns(roads, named, file=section.path, key=section.section)
    rows = roads["_row"].astype(int)
    roads = roads.assign(
        road_id=roads[section.id].astype(str) if section.id else rows.astype(str),
        road_name=roads[section.name].fillna("").astype(str) if section.name else "",
    )
    if section.grade:
        level = pd.to_numeric(roads[section.grade], errors="coerce")
        bad = level.isna() | (level != level.round())
        if bad.any():
            raise input_error(
                section.path,
                f"{section.section} grade = {section.grade!r}: "
                f"{roads[section.grade][bad].iloc[0]!r} is no level",
                "write 0 for a road at grade, 1 for a bridge, -1 for a tunnel",
                row=int(rows[bad].iloc[0]),
            )
        roads = roads.drop(columns=[c for c in ("bridge", "tunnel") if c in roads])
        roads = roads.assign(layer=level.astype(int))
    return roads


def read_study_residents(study: Study, path: str | Path) -> Layer:
    """Read a residents file with the column settings of the study's ``[residents]``."""
    return read_residents(path, **_resident_columns(study.residents))


def read_study_facilities(
    study: Study, path: str | Path, *, section: FacilitiesSection | None = None
) -> Layer:
    """Read a facility file with the column settings of ``section`` (``[facilities]``).

    A file cjgis wrote (a saved what-if: :data:`SCENARIO_COLUMNS`) is read with its own
    columns and in the CRS its ``crs`` column names, whatever the study declares; its
    ``change`` column (added / moved) is kept.
    """
    section = section or study.facilities
    table = read_any(path, sheet=section.sheet, encoding=section.encoding, layer=section.layer)
    if not SCENARIO_COLUMNS <= set(table.columns):
        return read_facilities(path, **_keys_of(section, leave_out=("path",)))
    crs = _one_crs(table, path)
    if crs.lower() != str(section.crs or "EPSG:4326").lower():
        log.info(
            "%s: a scenario cjgis saved, read in its own CRS %s (the study's %s says %s)",
            path,
            crs,
            getattr(section, "section", "[facilities]"),
            section.crs or "EPSG:4326",
        )
    layer = read_facilities(
        path,
        id="facility_id",
        name="name",
        category="category",
        lon="lon",
        lat="lat",
        crs=crs,
        capacity="capacity" if table["capacity"].notna().any() else None,
    )
    change = dict(zip(table["facility_id"].astype(str), table["change"], strict=True))
    frame = layer.frame.assign(change=layer.frame["facility_id"].astype(str).map(change))
    return Layer(frame, layer.rejected, layer.file)


#: Columns of a scenario cjgis saved (:func:`cjgis.plan.whatif.save_scenario`).
SCENARIO_COLUMNS = {"facility_id", "name", "category", "lon", "lat", "crs", "capacity", "change"}


def _one_crs(table, path) -> str:
    values = table["crs"].dropna().astype(str).unique()
    if len(values) != 1:
        raise InputError(
            f"{path}: the crs column holds {len(values)} values ({', '.join(values)}). Fix: "
            "give every row one CRS (save the scenario again)"
        )
    return str(values[0])


def _is_osm(path) -> bool:
    """Whether ``[network] path`` is an OSM extract (a file; not a database source)."""
    return isinstance(path, Path) and is_osm(path)


def _keys_of(section, *, leave_out: tuple[str, ...]) -> dict:
    """Return a study section's keys as keyword arguments of the reader named alike."""
    leave_out = (*leave_out, "table", "sql")  # in the path, when it is a database source
    return {f.name: getattr(section, f.name) for f in fields(section) if f.name not in leave_out}


def _resident_columns(r: ResidentsSection) -> dict:
    return {
        "population": r.population,
        "id": r.id,
        "elderly": r.elderly,
        "households": r.households,
        "villagers": r.villagers,
        "renters": r.renters,
        "crs": r.crs,
        "lon": r.lon,
        "lat": r.lat,
        "sheet": r.sheet,
        "encoding": r.encoding,
        "layer": r.layer,
    }


def _read_residents(r: ResidentsSection, communities: Layer, totals: dict[str, str]) -> Layer:
    """Residents from whichever source the study names, plus those living outside."""
    if r.raster is not None:
        residents = residents_from_raster(r.raster, communities.frame)
    elif totals:
        residents = residents_from_totals(
            communities.frame,
            totals,
            buildings=read_any(r.buildings, layer=r.buildings_layer)
            if r.buildings is not None
            else None,
            floor_area=r.floor_area,
            grid_m=r.grid_m,
            file=communities.file,
        )
    else:
        residents = read_residents(r.path, community=r.community, **_resident_columns(r))
    if r.outside is not None:
        away = residents_outside(r.outside.path, **_keys_of(r.outside, leave_out=("path",)))
        residents = combine(residents, away)
    return residents


def analyze_study(
    study: Study, *, verbose: bool = True, partition: Partition | None = None
) -> Analysis:
    """Read a study's network and layers and :func:`~cjgis.judge.analysis.analyze` them.

    ``partition`` runs the searches tile by tile (:mod:`cjgis.reach.partition`), same results.
    """
    _, finish = analyze_study_areas_later(study, verbose=verbose, partition=partition)
    return finish()


def analyze_study_areas_later(
    study: Study, *, verbose: bool = True, partition: Partition | None = None
) -> tuple[Analysis, Callable[..., Analysis | None]]:
    """:func:`analyze_study` returning before the service areas are drawn.

    See :func:`cjgis.judge.analysis.analyze_areas_later`: the analysis without its areas, and
    ``finish()`` that waits for them and returns the whole analysis.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        layers = pool.submit(layers_from_study, study)  # GDAL reads while the network loads
        network = network_from_study(study)
        communities, residents, facilities = layers.result()
    first, finish = analyze_areas_later(
        network,
        communities,
        residents,
        facilities,
        options=study.options,
        verbose=verbose,
        partition=partition,
    )

    def finish_with_map(*, cancel: bool = False) -> Analysis | None:
        whole = finish(cancel=cancel)
        return None if whole is None else replace(whole, map_options=study.map_options)

    return replace(first, map_options=study.map_options), finish_with_map


def check_inputs_exist(study: Study) -> None:
    """Name every input file the study names that is not there, with the likely fix."""
    named = [
        study.network.path,
        study.communities.path,
        study.residents.path,
        study.residents.raster,
        study.residents.buildings,
        study.facilities.path,
    ]
    missing = [p for p in named if isinstance(p, Path) and not p.exists()]
    if not missing:
        return
    sample = any("sample" in p.parts for p in missing)
    fix = (
        "run `cjgis demo` first: it writes the sample files this study names"
        if sample
        else "check the paths in the study file (relative to the study file's folder)"
    )
    listing = ", ".join(str(p) for p in missing)
    raise CjgisError(f"{study.source}: input files not found: {listing}. Fix: {fix}")
