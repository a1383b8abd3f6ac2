"""The study file: one TOML file that names a study's inputs, settings and outputs.

Each section is a frozen dataclass below, with its defaults in one place; the keys a section
accepts are its fields, so a typo such as ``minute = 10`` is an error with a did-you-mean
rather than a value ignored in silence. Relative paths are relative to the study file. See
the manual's "Study file" (docs/manual/study_file.md).
"""

from __future__ import annotations

import difflib
import functools
import itertools
import logging
import tomllib
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cjgis._database import check_url, is_database_url, shown
from cjgis._errors import InputError, StudyFileError
from cjgis.inputs.database import DatabaseSource
from cjgis.inputs.io import read_water
from cjgis.judge.layers import known_categories, unknown_category_fix
from cjgis.judge.rules import DEFAULT_PROFILE, StandardsChoice
from cjgis.judge.settings import NOT_ANALYSIS_KEYS, AnalysisOptions
from cjgis.judge.standards import rules_of
from cjgis.outputs.database import POSTGIS_MODES, PostgisTarget
from cjgis.streets.cache import CACHE_DIR
from cjgis.streets.road_lines import LINE_JOIN_M, PLANNED_JOIN_M

log = logging.getLogger(__name__)

#: Formats of the layer outputs: GeoPackage (always), and an ArcGIS File Geodatabase.
LAYER_FORMATS = ("gpkg", "gdb")
#: Field metadata of keys that hold a file or folder path (absolute against the study file).
_PATH = {"path": True}
#: A path that may also be a PostgreSQL URL, with ``table`` or ``sql`` beside it
#: (:class:`~cjgis.inputs.database.DatabaseSource`).
_PATH_OR_DATABASE = {"path": True, "database": True}


def _check_cad_layers(section: Any, name: str) -> None:
    """Refuse ``layers`` or ``bridge_layers`` that are not lists of CAD layer names."""
    for key in ("layers", "bridge_layers"):
        value = getattr(section, key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise StudyFileError(
                f"{name} {key} = {value!r}: a list of CAD layer names. Fix: write e.g. "
                f'{key} = ["{"桥梁" if key == "bridge_layers" else "道路中心线"}"]'
            )


@dataclass(frozen=True)
class StudySection:
    """``[study]``: the study's name (it names the output folder and map)."""

    name: str
    description: str = ""


@dataclass(frozen=True)
class NetworkSection:
    """``[network]``: where the streets come from; exactly one of path, place or bbox.

    ``crs`` is the CRS of a road-line layer that declares none; ``join_m`` closes gaps between
    road lines; ``planned`` road lines join streets within ``planned_join_m``;
    ``clip_margin_m`` grows the communities' box an OSM extract is clipped to;
    ``components`` keeps the major connected pieces (``"major"``), the largest, or all.
    A CAD drawing (``.dxf``) names its road layers in ``layers`` and bridges in
    ``bridge_layers``.
    """

    path: Path | DatabaseSource | None = field(default=None, metadata=_PATH_OR_DATABASE)
    place: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    crs: str | None = None
    join_m: float = LINE_JOIN_M
    clip_margin_m: float = 3000.0
    planned: Path | None = field(default=None, metadata=_PATH)
    planned_join_m: float = PLANNED_JOIN_M
    components: str = "major"
    layer: str | None = None
    layers: list[str] = field(default_factory=list)
    bridge_layers: list[str] = field(default_factory=list)
    encoding: str | None = None
    table: str | None = None
    sql: str | None = None
    cache: bool = True
    cache_dir: Path = field(default=CACHE_DIR, metadata=_PATH)

    def __post_init__(self) -> None:
        _check_cad_layers(self, "[network]")

    @property
    def label(self) -> str:
        """The source as a person names it: file name, place or bbox."""
        if self.path is not None:
            return self.path.name
        return str(self.place if self.place is not None else list(self.bbox or ()))


@dataclass(frozen=True)
class CommunitiesSection:
    """``[communities]``: the boundaries and their id and name columns."""

    path: Path | DatabaseSource = field(metadata=_PATH_OR_DATABASE)
    id: str
    name: str
    crs: str | None = None
    encoding: str | None = None
    layer: str | None = None
    table: str | None = None
    sql: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResidentColumns:
    """The columns and reading keys every residents section has (its subclasses add theirs)."""

    id: str | None = None
    elderly: str | None = None
    households: str | None = None
    crs: str | None = None
    lon: str | None = None
    lat: str | None = None
    sheet: str | int | None = None
    encoding: str | None = None
    layer: str | None = None
    table: str | None = None
    sql: str | None = None


@dataclass(frozen=True, kw_only=True)
class OutsideSection(ResidentColumns):
    """``[residents_outside]``: residents living away from their community (安置在外)."""

    path: Path | DatabaseSource = field(metadata=_PATH_OR_DATABASE)
    population: str
    community: str


@dataclass(frozen=True, kw_only=True)
class ResidentsSection(ResidentColumns):
    """``[residents]``: exactly one of a layer (path), a raster, or community totals."""

    path: Path | DatabaseSource | None = field(default=None, metadata=_PATH_OR_DATABASE)
    population: str = "population"
    villagers: str | None = None
    renters: str | None = None
    community: str | None = None
    raster: Path | None = field(default=None, metadata=_PATH)
    community_totals: str | None = None
    buildings: Path | None = field(default=None, metadata=_PATH)
    buildings_layer: str | None = None
    floor_area: str | None = None
    grid_m: float = 50.0
    outside: OutsideSection | None = None

    def totals(self) -> dict[str, str]:
        """Count -> column of the communities file, when residents come as community totals."""
        if self.community_totals is None:
            return {}
        totals = {"population": self.community_totals}
        totals.update({k: getattr(self, k) for k in ("elderly", "households") if getattr(self, k)})
        return totals


@dataclass(frozen=True)
class FacilitiesSection:
    """``[facilities]``: the facility file and the columns cjgis should read."""

    path: Path | DatabaseSource = field(metadata=_PATH_OR_DATABASE)
    category: str | None = None
    name: str | None = None
    id: str | None = None
    lon: str | None = None
    lat: str | None = None
    crs: str | None = None
    capacity: str | None = None
    type: str | None = None
    sheet: str | int | None = None
    encoding: str | None = None
    layer: str | None = None
    table: str | None = None
    sql: str | None = None


@dataclass(frozen=True)
class OutputSection:
    """``[output]``: the output folder and the map file."""

    dir: Path | None = field(default=None, metadata=_PATH)
    map: Path | None = field(default=None, metadata=_PATH)
    formats: list[str] = field(default_factory=lambda: ["gpkg"])
    postgis: str | None = None
    schema: str = "cjgis"
    postgis_mode: str = "replace"
    run_id: str | None = None

    def __post_init__(self) -> None:
        if self.map is not None and Path(self.map).suffix.lower() not in (".html", ".htm"):
            raise StudyFileError(
                f"[output] map = {str(self.map)!r}: the map is an HTML page. Fix: end the name "
                "in .html (the PNG figures are written to the output folder)"
            )
        formats = self.formats
        if (
            not isinstance(formats, list)
            or "gpkg" not in formats
            or not set(formats) <= set(LAYER_FORMATS)
        ):
            raise StudyFileError(
                f"[output] formats = {formats!r}: the layers' formats. Fix: write "
                'formats = ["gpkg"] (the default) or formats = ["gpkg", "gdb"] (also one ArcGIS '
                "File Geodatabase of every layer)"
            )
        if self.postgis is not None and not is_database_url(self.postgis):
            raise StudyFileError(
                f"[output] postgis = {self.postgis!r} is no database URL. Fix: write postgis = "
                '"postgresql://user@host:5432/db" (the password in PGPASSWORD or ~/.pgpass)'
            )
        wrong = None if self.postgis is None else check_url(self.postgis)
        if wrong is not None:
            raise StudyFileError(f"[output] postgis = {shown(str(self.postgis))!r}: {wrong}")
        if self.postgis_mode not in POSTGIS_MODES:
            raise StudyFileError(
                f"[output] postgis_mode = {self.postgis_mode!r}. Fix: write "
                f"{' or '.join(repr(m) for m in POSTGIS_MODES)} (replace: the tables hold this "
                "run only; append: other runs' rows stay)"
            )
        if not self.schema or not isinstance(self.schema, str):
            raise StudyFileError(
                f'[output] schema = {self.schema!r}. Fix: name a schema, e.g. schema = "cjgis"'
            )

    def postgis_target(self, study_name: str) -> PostgisTarget | None:
        """Where ``[output] postgis`` writes, or None; the run id is the study's name unless set."""
        if self.postgis is None:
            return None
        return PostgisTarget(
            self.postgis,
            schema=self.schema,
            run_id=self.run_id or study_name,
            mode=self.postgis_mode,
        )


@dataclass(frozen=True)
class MapSection:
    """``[map]``: base map and whether the HTML carries its scripts (see :func:`gap_map`)."""

    basemap: str = "osm"
    tianditu_key: str | None = None
    self_contained: bool = True
    water: Path | None = field(default=None, metadata=_PATH)
    water_layer: str | None = None


@dataclass(frozen=True)
class StandardsSection:
    """``[standards]``: profiles, overrides and exclusions (see :mod:`cjgis.judge.standards`).

    No profile named: :data:`~cjgis.judge.rules.DEFAULT_PROFILE` (``chcj_2017``), said in the log
    and the outputs; ``profile = "none"``: no profile. ``exclude`` lists categories left out
    on purpose, shown as 未评价 (not assessed) in every output.
    """

    profile: str | list[str] | None = None
    categories: dict[str, dict[str, Any]] = field(default_factory=dict)
    speeds: dict[str, float] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlannedRoadsSection:
    """``[planned.roads]``: the planned road lines and the columns cjgis should read.

    ``grade`` names a column with each road's vertical level (0 at grade, 1 a bridge, -1 a
    tunnel); without it the ``bridge``, ``tunnel`` and ``layer`` columns are read. ``id``
    and ``name`` columns name the roads in the joins table and on the map.
    """

    path: Path = field(metadata=_PATH)
    crs: str | None = None
    id: str | None = None
    name: str | None = None
    grade: str | None = None
    encoding: str | None = None
    layer: str | None = None
    layers: list[str] = field(default_factory=list)
    bridge_layers: list[str] = field(default_factory=list)
    section: str = "[planned.roads]"

    def __post_init__(self) -> None:
        _check_cad_layers(self, self.section)


@dataclass(frozen=True, kw_only=True)
class PlannedResidentsSection(ResidentColumns):
    """``[planned.residents]``: the planned buildings and their columns.

    Where the drawing has no head count, ``population`` may be left out and ``households``
    given with ``household_size`` (persons = households x size); ``elderly_share`` estimates
    the elderly where there is no ``elderly`` column. Both are the planner's declared
    estimates (规划建议值), named in the log and in the residences' ``note``.
    """

    path: Path | DatabaseSource = field(metadata=_PATH_OR_DATABASE)
    population: str | None = None
    villagers: str | None = None
    renters: str | None = None
    community: str | None = None
    household_size: float | None = None
    elderly_share: float | None = None
    section: str = "[planned.residents]"


@dataclass(frozen=True)
class PlannedCommunitiesSection(CommunitiesSection):
    """``[planned.communities]``: the new site's boundary (a community of its own as planned)."""

    section: str = "[planned.communities]"


@dataclass(frozen=True)
class PlannedFacilitiesSection(FacilitiesSection):
    """``[planned.facilities]``: the planned facilities, with the keys of ``[facilities]``."""

    section: str = "[planned.facilities]"


@dataclass(frozen=True)
class PlannedSection:
    """``[planned]``: a new site's roads, facilities, residents and boundary (``cjgis site``).

    Each layer is a path (read with the columns of its existing counterpart: ``[residents]``,
    ``[facilities]``, ``[communities]``) or a table of its own (``[planned.residents]``, ...)
    with the keys of that counterpart.
    """

    roads: PlannedRoadsSection | None = None
    join_m: float = PLANNED_JOIN_M
    facilities: PlannedFacilitiesSection | None = None
    residents: PlannedResidentsSection | None = None
    communities: PlannedCommunitiesSection | None = None


#: The layers of ``[planned]``, each a path or a table of its own.
_PLANNED_LAYERS: dict[str, type] = {
    "roads": PlannedRoadsSection,
    "facilities": PlannedFacilitiesSection,
    "residents": PlannedResidentsSection,
    "communities": PlannedCommunitiesSection,
}


@dataclass(frozen=True)
class SitingSection:
    """``[siting]``: options of :func:`cjgis.plan.siting.suggest_sites` (unset keys: defaults)."""

    k: int | None = None
    candidates: Path | None = field(default=None, metadata=_PATH)
    spacing_m: float | None = None
    solver: str | None = None
    max_exact: int | None = None
    time_limit_s: float | None = None

    def options(self) -> dict[str, Any]:
        """Return the keys the study file sets (``candidates`` stays a path)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


@dataclass(frozen=True)
class SweepSection:
    """``[sweep]``: values to try (``cjgis sweep``); every combination is one scenario.

    Each value applies to every category, as the same key in ``[analysis]`` does (a planner's
    rule then, unless a profile's standard says the same).
    """

    minutes: list[float] = field(default_factory=list)
    walk_speed_m_s: list[float] = field(default_factory=list)
    target_share: list[float] = field(default_factory=list)

    def scenarios(self) -> list[dict[str, float]]:
        """Return every combination of the listed values, in the order written."""
        keys = [f.name for f in fields(self) if getattr(self, f.name)]
        values = itertools.product(*(getattr(self, k) for k in keys))
        return [dict(zip(keys, combination, strict=True)) for combination in values]


_SECTIONS: dict[str, type] = {
    "study": StudySection,
    "network": NetworkSection,
    "communities": CommunitiesSection,
    "residents": ResidentsSection,
    "residents_outside": OutsideSection,
    "facilities": FacilitiesSection,
    "analysis": AnalysisOptions,
    "output": OutputSection,
    "map": MapSection,
    "standards": StandardsSection,
    "planned": PlannedSection,
    "siting": SitingSection,
    "sweep": SweepSection,
}
#: Sections every study file has.
_REQUIRED_SECTIONS = ("study", "network", "communities", "residents", "facilities")
#: Keys that are not study-file keys but fields filled from elsewhere.
_NOT_KEYS = {"outside", "section"}


def sections() -> dict[str, type]:
    """Return every study-file section (``planned.roads`` too) and the dataclass it fills."""
    return {**_SECTIONS, **{f"planned.{name}": cls for name, cls in _PLANNED_LAYERS.items()}}


def section_keys() -> dict[str, tuple[set[str], set[str]]]:
    """Return every study-file section with its (required, optional) keys."""
    return {name: _keys(cls) for name, cls in sections().items()}


def is_key(section: type, name: str) -> bool:
    """Whether a field of a section's dataclass is a study-file key (see :func:`section_keys`)."""
    return name not in _NOT_KEYS and not (section is AnalysisOptions and name in NOT_ANALYSIS_KEYS)


def _keys(section: type) -> tuple[set[str], set[str]]:
    """Return the (required, optional) keys of a section, from its dataclass fields."""
    required, optional = set(), set()
    for f in fields(section):
        if not is_key(section, f.name):
            continue  # [analysis] has no rules, exclude or standards: [standards] sets them
        has_default = f.default is not MISSING or f.default_factory is not MISSING
        (optional if has_default else required).add(f.name)
    return required, optional


@dataclass(frozen=True)
class Study:
    """A parsed study file: typed sections with absolute paths, options and outputs."""

    name: str
    source: Path
    network: NetworkSection
    communities: CommunitiesSection
    residents: ResidentsSection
    facilities: FacilitiesSection
    options: AnalysisOptions
    output_dir: Path
    map_path: Path
    map: MapSection
    planned: PlannedSection
    siting: SitingSection
    sweep: SweepSection
    output_formats: tuple[str, ...] = ("gpkg",)
    postgis: PostgisTarget | None = None

    @property
    def gdb_path(self) -> Path | None:
        """The File Geodatabase of every layer (``[output] formats`` with ``"gdb"``), or None."""
        return self.output_dir / f"{self.name}.gdb" if "gdb" in self.output_formats else None

    def __repr__(self) -> str:
        """Return what the study names, a line each (not its parsed sections in full)."""
        r = self.residents
        residents = r.path or r.raster or (self.communities.path, r.community_totals)
        planned = [k for k in ("roads", "facilities", "residents", "communities")]
        planned = [k for k in planned if getattr(self.planned, k) is not None]
        return "\n".join(
            [
                f"Study {self.name!r} ({self.source})",
                f"  network: {self.network.label}",
                f"  communities: {self.communities.path}",
                f"  residents: {residents}",
                f"  facilities: {self.facilities.path}",
                f"  standards: {self.options.standards.describe()}"
                if self.options.standards is not None
                else "  standards: none",
                f"  planned: {', '.join(planned) or 'none'}",
                f"  outputs: {self.output_dir}, {self.map_path}",
            ]
        )

    def _repr_html_(self) -> str:
        """:meth:`__repr__` as HTML."""
        import html

        return f"<pre>{html.escape(repr(self))}</pre>"

    @functools.cached_property
    def map_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`cjgis.outputs.maps.gap_map` from ``[map]``.

        ``water`` is read here, once (its ``water_layer`` checked), for the map and figures.
        """
        options = {f.name: getattr(self.map, f.name) for f in fields(self.map)}
        layer = options.pop("water_layer")
        options["water"] = read_water(self.map.water, layer=layer)
        return options


def _check_keys(data: dict[str, Any], file: Path) -> None:
    for section, body in data.items():
        if section not in _SECTIONS:
            _unknown(file, f"section [{section}]", section, list(_SECTIONS))
        if not isinstance(body, dict):
            raise StudyFileError(f"{file}: [{section}] must be a table of keys")
        _check_section_keys(body, _SECTIONS[section], file=file, name=section)
        if section == "planned":
            for layer, cls in _PLANNED_LAYERS.items():
                if isinstance(body.get(layer), dict):
                    _check_section_keys(body[layer], cls, file=file, name=f"planned.{layer}")
    for section in _REQUIRED_SECTIONS:
        if section not in data:
            raise StudyFileError(
                f"{file}: section [{section}] is missing. Fix: add it "
                "(see the example examples/study.toml)"
            )


def _check_section_keys(body: dict[str, Any], cls: type, *, file: Path, name: str) -> None:
    """Refuse unknown keys (with a did-you-mean) and name the required keys missing."""
    required, optional = _keys(cls)
    for key in body:
        if key not in required | optional:
            _unknown(file, f"key {key!r} in [{name}]", key, sorted(required | optional))
    missing = required - set(body)
    if missing:
        raise StudyFileError(
            f"{file}: [{name}] lacks {', '.join(sorted(missing))}. "
            f'Fix: add it, e.g. {sorted(missing)[0]} = "..." (docs/manual/study_file.md)'
        )


def _planned(
    body: dict[str, Any],
    base: Path,
    *,
    file: Path,
    existing: dict[str, Any],
) -> PlannedSection:
    """Build ``[planned]``: each layer a path (the counterpart's columns) or its own table.

    ``existing`` holds the parsed ``residents``, ``facilities`` and ``communities`` sections
    whose columns a bare path is read with.
    """
    values: dict[str, Any] = {}
    for key, value in body.items():
        cls = _PLANNED_LAYERS.get(key)
        if cls is None:
            values[key] = value
        elif isinstance(value, dict):
            values[key] = _section(cls, value, base, file=file, name=f"planned.{key}")
        elif isinstance(value, str) and is_database_url(value):
            raise StudyFileError(
                f"{file}: [planned] {key} = {shown(value)!r} names a database but no table. Fix: "
                f'write a [planned.{key}] table with path = "..." and table = "..."'
            )
        elif isinstance(value, str):
            values[key] = _planned_path(cls, (base / value).resolve(), existing.get(key), key)
        else:
            raise StudyFileError(
                f"{file}: [planned] {key} = {value!r} is neither a path nor a table. Fix: write "
                f'{key} = "planned_{key}.gpkg", or a [planned.{key}] table with path = "..."'
            )
    planned = _section(PlannedSection, values, base, file=file, name="planned")
    residents = planned.residents
    if residents is not None:
        _check_estimates(residents, file=file)
    if residents is not None and residents.population is None:
        if residents.households is None or residents.household_size is None:
            raise StudyFileError(
                f"{file}: {residents.section} has no population column and no households "
                'with household_size to count persons from. Fix: add population = "<column>", '
                'or households = "<column>" and household_size = 2.8 (persons per household, '
                "your planning estimate)"
            )
    return planned


def _check_estimates(residents: PlannedResidentsSection, *, file: Path) -> None:
    """``household_size`` positive, ``elderly_share`` a share between 0 and 1."""
    size, share = residents.household_size, residents.elderly_share
    if size is not None and not 0 < size < 20:
        raise StudyFileError(
            f"{file}: {residents.section} household_size = {size!r} is no persons-per-household "
            "figure. Fix: write e.g. household_size = 2.8"
        )
    if share is not None and not 0 < share < 1:
        raise StudyFileError(
            f"{file}: {residents.section} elderly_share = {share!r} is not a share. Fix: write "
            "e.g. elderly_share = 0.22 (22 %)"
        )


def _planned_path(cls: type, path: Path, existing: Any, key: str) -> Any:
    """Return a ``[planned]`` layer given as a bare path, read with its counterpart's columns."""
    section = f"[planned] {key} (read with the columns of [{key}])"
    if existing is None:  # roads: no counterpart
        return cls(path=path, section=f"[planned] {key}")
    names = {f.name for f in fields(cls)} & {f.name for f in fields(existing)}
    own = ("path", "section", "community", "table", "sql")  # the bare path replaces the source
    keys = {n: getattr(existing, n) for n in names if n not in own}
    return cls(path=path, section=section, **keys)


def _exactly_one(
    body: dict[str, Any],
    keys: tuple[str, ...],
    *,
    file: Path,
    section: str,
    listed: str,
    readme: str,
) -> None:
    """Raise unless exactly one of ``keys`` is in ``[section]`` (``listed`` names them)."""
    modes = [m for m in keys if m in body]
    if len(modes) != 1:
        raise StudyFileError(
            f"{file}: [{section}] needs exactly one of {listed}; found "
            f"{modes or 'none'}. Fix: see the manual (docs/manual), {readme}"
        )


def _check_network(body: dict[str, Any], file: Path) -> None:
    """Exactly one source of streets: a file, a place name or a bounding box."""
    keys = ("path", "place", "bbox")
    _exactly_one(
        body,
        keys,
        file=file,
        section="network",
        listed="path, place or bbox",
        readme="Street networks",
    )
    bbox = body.get("bbox")
    if bbox is not None:
        ok = isinstance(bbox, list) and len(bbox) == 4
        ok = ok and all(isinstance(v, int | float) for v in bbox)
        if not ok or not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
            raise StudyFileError(
                f"{file}: [network] bbox = {bbox!r} is not [west, south, east, north] in "
                "degrees. Fix: e.g. bbox = [120.06, 30.27, 120.13, 30.34]"
            )
    if body.get("components", "major") not in ("major", "largest", "all"):
        raise StudyFileError(
            f"{file}: [network] components = {body['components']!r}. "
            'Fix: use "major", "largest" or "all"'
        )


def _check_residents(body: dict[str, Any], file: Path) -> None:
    """Exactly one source of residents: a layer with counts, a raster, or community totals."""
    _exactly_one(
        body,
        ("path", "raster", "community_totals"),
        file=file,
        section="residents",
        listed="path (with population), raster, or community_totals",
        readme="Residents",
    )
    if "path" in body and "population" not in body:
        raise StudyFileError(
            f"{file}: [residents] path needs population (the column with "
            'residents per feature). Fix: add population = "..."'
        )
    if "buildings" in body and "community_totals" not in body:
        raise StudyFileError(
            f"{file}: [residents] buildings goes with community_totals. "
            "Fix: remove buildings or add community_totals"
        )


def _unknown(file: Path, what: str, key: str, known: list[str]) -> None:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise StudyFileError(f"{file}: unknown {what}. Fix: {hint}known: {', '.join(known)}")


def _section(cls: type, body: dict[str, Any], base: Path, *, file: Path, name: str):
    """Build a section's dataclass from its TOML table: paths made absolute, numbers checked."""
    values = dict(body)
    for f in fields(cls):
        if f.name not in values:
            continue
        value = values[f.name]
        if f.metadata.get("path") and is_database_url(value):
            values[f.name] = _database_source(values, f, file=file, name=name)
        elif f.metadata.get("path") and isinstance(value, str):
            values[f.name] = (base / value).resolve()
        elif f.type in ("float", "float | None") and not isinstance(value, bool):
            try:
                values[f.name] = float(value)
            except (TypeError, ValueError):
                raise StudyFileError(
                    f"{file}: [{name}] {f.name} = {value!r} is not a number. "
                    "Fix: write a number, e.g. 30"
                ) from None
        elif f.name == "bbox":
            values[f.name] = tuple(float(v) for v in value)
        elif f.type == "list[float]":
            if not isinstance(value, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in value
            ):
                raise StudyFileError(
                    f"{file}: [{name}] {f.name} = {value!r} is not a list of numbers. "
                    "Fix: write e.g. [0.8, 1.0, 1.2]"
                )
            values[f.name] = [float(v) for v in value]
    if not is_database_url(body.get("path")):
        given = [k for k in ("table", "sql") if values.get(k) is not None]
        if given:
            raise StudyFileError(
                f"{file}: [{name}] {given[0]} = {values[given[0]]!r} names a database table, "
                'but path is no database URL. Fix: write path = "postgresql://user@host/db", '
                'or layer = "..." for a layer of a GeoPackage or .gdb'
            )
    return cls(**values)


def _database_source(values: dict[str, Any], key: Any, *, file: Path, name: str):
    """Return ``path``, ``table`` and ``sql`` of a section as one database source, checked."""
    url = values[key.name]
    if not key.metadata.get("database"):
        raise StudyFileError(
            f"{file}: [{name}] {key.name} = {shown(url)!r}: this key reads files only. Fix: export "
            "the table to a GeoPackage; database tables are read by [communities], [residents], "
            "[residents_outside], [facilities] and [planned] layers"
        )
    others = [k for k in ("layer", "sheet", "encoding") if values.get(k) is not None]
    if others:
        raise StudyFileError(
            f"{file}: [{name}] {others[0]} is given beside a database URL. Fix: remove it "
            "(a database layer is named by table or sql)"
        )
    try:
        return DatabaseSource(url, table=values.get("table"), sql=values.get("sql"))
    except InputError as exc:
        raise StudyFileError(f"{file}: [{name}] path: {exc}") from None


def _with_standards(options: AnalysisOptions, data: dict[str, Any], base: Path, *, file: Path):
    """Resolve the study's standards profiles and overrides into per-category rules.

    No profile named: :data:`~cjgis.judge.rules.DEFAULT_PROFILE`, said in the log; ``"none"``: none.
    """
    standards = StandardsSection(**data.get("standards", {}))
    named = standards.profile
    names = tuple(named) if isinstance(named, list) else (named,) if named else ()
    if "none" in names and names != ("none",):
        raise StudyFileError(
            f'{file}: [standards] profile = {list(names)} lists "none" with other profiles. '
            'Fix: write profile = "none" alone, or leave "none" out'
        )
    choice = StandardsChoice(
        profiles=(DEFAULT_PROFILE,) if named is None else () if names == ("none",) else names,
        default=named is None,
        base=str(base),
        overrides=dict(standards.categories),
        speeds=dict(standards.speeds),
        explicit=frozenset(data.get("analysis", {})),
    )
    rules = rules_of(choice, options)
    log.info("standards 标准: %s", choice.describe())
    options = replace(options, rules=rules, standards=choice)
    return replace(options, exclude=_excluded(standards.exclude, options, file=file))


def _excluded(keys: Any, options: AnalysisOptions, *, file: Path) -> tuple[str, ...]:
    """Check ``[standards] exclude``: a list of known category keys, each once."""
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise StudyFileError(
            f"{file}: [standards] exclude = {keys!r} is not a list of category keys. "
            'Fix: write e.g. exclude = ["waste_point"]'
        )
    known = known_categories(options)
    for key in keys:
        if key not in known:
            raise StudyFileError(
                f"{file}: [standards] exclude names the unknown category {key!r}. "
                f"Fix: {unknown_category_fix(key, known)}"
            )
    return tuple(dict.fromkeys(keys))


def load_study(path: str | Path, *, analysis: dict[str, float] | None = None) -> Study:
    """Read and check a study file.

    Parameters
    ----------
    path : str or pathlib.Path
        The TOML study file.
    analysis : dict, optional
        ``[analysis]`` values that replace the file's (a scenario of ``[sweep]``).

    Returns
    -------
    Study
        Paths resolved against the study file's folder; outputs default to
        ``data/processed/<name>`` and ``maps/<name>.html`` under the current folder.
    """
    path = Path(path)
    if not path.is_file():
        raise StudyFileError(f"{path}: study file not found. Fix: check the path")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise StudyFileError(
            f"{path}: not valid TOML ({exc}). Fix: see examples/study.toml"
        ) from exc
    if analysis:
        data = {**data, "analysis": {**data.get("analysis", {}), **analysis}}
    _check_keys(data, path)
    base = path.resolve().parent
    name = str(data["study"]["name"]).strip()
    if not name or any(c in name for c in '/\\:*?"<>|'):
        raise StudyFileError(
            f"{path}: [study] name {name!r} cannot name a folder. "
            "Fix: use letters, digits, Chinese, '-' or '_'"
        )
    _check_network(data["network"], path)
    _check_residents(data["residents"], path)

    def section(key: str, cls: type):
        return _section(cls, data.get(key, {}), base, file=path, name=key)

    outside = section("residents_outside", OutsideSection) if "residents_outside" in data else None
    residents = replace(section("residents", ResidentsSection), outside=outside)
    communities = section("communities", CommunitiesSection)
    facilities = section("facilities", FacilitiesSection)
    planned = _planned(
        data.get("planned", {}),
        base,
        file=path,
        existing={"residents": residents, "facilities": facilities, "communities": communities},
    )
    try:
        options = AnalysisOptions(**data.get("analysis", {}))
    except (TypeError, ValueError) as exc:
        raise StudyFileError(f"{path}: [analysis] {exc}. Fix: correct the value") from exc
    options = _with_standards(options, data, base, file=path)
    output = section("output", OutputSection)
    return Study(
        name=name,
        source=path,
        network=section("network", NetworkSection),
        communities=communities,
        residents=residents,
        facilities=facilities,
        options=options,
        output_dir=output.dir or Path("data/processed") / name,
        map_path=output.map or Path("maps") / f"{name}.html",
        output_formats=tuple(output.formats),
        postgis=output.postgis_target(name),
        map=section("map", MapSection),
        planned=planned,
        siting=section("siting", SitingSection),
        sweep=section("sweep", SweepSection),
    )
