"""The study file: one TOML file that names a study's inputs, settings and outputs.

Relative paths inside it are relative to the study file. Unknown keys are errors (a typo
such as ``minute = 10`` would otherwise be ignored silently). See README "Study file".
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cjgis._errors import StudyFileError
from cjgis.settings import AnalysisOptions
from cjgis.standards import load_profile, resolve_rules

_SECTIONS: dict[str, tuple[set[str], set[str]]] = {
    # section: (required keys, optional keys)
    "study": ({"name"}, {"description"}),
    "network": (
        set(),
        {
            "path",
            "place",
            "bbox",
            "crs",
            "join_m",
            "clip_margin_m",
            "planned",
            "planned_join_m",
            "components",
            "cache",
            "cache_dir",
        },
    ),
    "communities": ({"path", "id", "name"}, {"crs"}),
    "residents": (
        set(),
        {
            "path",
            "population",
            "id",
            "elderly",
            "households",
            "community",
            "crs",
            "raster",
            "community_totals",
            "buildings",
            "floor_area",
            "grid_m",
        },
    ),
    "residents_outside": (
        {"path", "population", "community"},
        {"id", "elderly", "households", "crs"},
    ),
    "facilities": ({"path"}, {"category", "name", "id", "lon", "lat", "crs", "capacity", "type"}),
    "analysis": (set(), set(AnalysisOptions.field_names())),
    "output": (set(), {"dir", "map"}),
    "map": (set(), {"basemap", "tianditu_key", "self_contained"}),
    "standards": (set(), {"profile", "categories", "speeds"}),
    "planned": (set(), {"roads", "join_m", "facilities", "residents"}),
    "siting": (set(), {"k", "candidates", "spacing_m", "solver", "max_exact"}),
}


@dataclass(frozen=True)
class Study:
    """A parsed study file: absolute input paths, column names, options and outputs."""

    name: str
    source: Path
    network: dict[str, Any]
    communities: dict[str, Any]
    residents: dict[str, Any]
    facilities: dict[str, Any]
    options: AnalysisOptions
    output_dir: Path
    map_path: Path
    map_options: dict[str, Any]
    planned: dict[str, Any]
    siting: dict[str, Any]


def _check_keys(data: dict[str, Any], file: Path) -> None:
    for section, body in data.items():
        if section not in _SECTIONS:
            _unknown(file, f"section [{section}]", section, list(_SECTIONS))
        if not isinstance(body, dict):
            raise StudyFileError(f"{file}: [{section}] must be a table of keys")
        required, optional = _SECTIONS[section]
        for key in body:
            if key not in required | optional:
                _unknown(file, f"key {key!r} in [{section}]", key, sorted(required | optional))
        missing = required - set(body)
        if missing:
            raise StudyFileError(
                f"{file}: [{section}] lacks {', '.join(sorted(missing))}. "
                f'Fix: add it, e.g. {sorted(missing)[0]} = "..." (see README, Study file)'
            )
    for section in ("study", "network", "communities", "residents", "facilities"):
        if section not in data:
            raise StudyFileError(
                f"{file}: section [{section}] is missing. Fix: add it "
                "(see the example examples/study.toml)"
            )


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
            f"{modes or 'none'}. Fix: see README, {readme}"
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


def _with_standards(options: AnalysisOptions, data: dict[str, Any], base: Path):
    """Resolve the study's standards profile and overrides into per-category rules."""
    section = data.get("standards", {})
    if not section:
        return options
    profile = None
    if "profile" in section:
        name = section["profile"]
        is_file = str(name).endswith(".toml")
        profile = load_profile(base / name if is_file else name)
    rules = resolve_rules(
        profile,
        options=options,
        explicit=set(data.get("analysis", {})),
        overrides=section.get("categories", {}),
        speeds=section.get("speeds", {}),
    )
    return replace(options, rules=rules)


#: Keys that hold file or folder paths, in any section; relative to the study file.
_PATH_KEYS = (
    "path",
    "raster",
    "buildings",
    "cache_dir",
    "roads",
    "planned",
    "facilities",
    "residents",
    "candidates",
)


def _resolve_paths(bodies: list[dict[str, Any]], base: Path) -> None:
    """Make every path key absolute, relative to the study file's folder (in place)."""
    for body in bodies:
        for key in _PATH_KEYS:
            if isinstance(body.get(key), str):
                body[key] = (base / body[key]).resolve()


def load_study(path: str | Path) -> Study:
    """Read and check a study file.

    Parameters
    ----------
    path : str or pathlib.Path
        The TOML study file.

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
    _check_keys(data, path)
    base = path.resolve().parent
    name = str(data["study"]["name"]).strip()
    if not name or any(c in name for c in '/\\:*?"<>|'):
        raise StudyFileError(
            f"{path}: [study] name {name!r} cannot name a folder. "
            "Fix: use letters, digits, Chinese, '-' or '_'"
        )
    layers = {s: dict(data[s]) for s in ("network", "communities", "residents", "facilities")}
    if "residents_outside" in data:
        layers["residents"]["outside"] = dict(data["residents_outside"])
    _check_network(layers["network"], path)
    _check_residents(layers["residents"], path)
    try:
        options = AnalysisOptions(**data.get("analysis", {}))
    except (TypeError, ValueError) as exc:
        raise StudyFileError(f"{path}: [analysis] {exc}. Fix: correct the value") from exc
    options = _with_standards(options, data, base)
    output = data.get("output", {})
    output_dir = Path("data/processed") / name
    map_path = Path("maps") / f"{name}.html"
    if "dir" in output:
        output_dir = (base / output["dir"]).resolve()
    if "map" in output:
        map_path = (base / output["map"]).resolve()
    map_options = dict(data.get("map", {}))
    planned, siting = dict(data.get("planned", {})), dict(data.get("siting", {}))
    _resolve_paths(
        [*layers.values(), layers["residents"].get("outside", {}), planned, siting], base
    )
    return Study(
        name, path, *layers.values(), options, output_dir, map_path, map_options, planned, siting
    )
