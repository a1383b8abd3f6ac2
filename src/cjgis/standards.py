"""Planning standards as data: profiles of per-category rules, each value with its source.

A profile (TOML in ``cjgis/profiles/``, or a file of your own) gives each facility category a
walking threshold (minutes or metres), the walking speed of the group it serves, whose demand
counts (residents, elderly or households), the target share, and a capacity rule. A study
picks a profile and may override any value. Precedence, for every category:

1. a value in the study's ``[standards.categories.<key>]``;
2. an explicit ``[analysis] minutes``, ``walk_speed_m_s`` or ``target_share`` (all categories);
3. the profile;
4. the defaults of :class:`~cjgis.settings.AnalysisOptions`.

Categories the profile does not know are analysed with the defaults and reported as
``无标准`` (no standard).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from cjgis._errors import StudyFileError
from cjgis.categories import category_info
from cjgis.rules import BASES, DEMANDS, CapacityRule, CategoryRule
from cjgis.settings import AnalysisOptions

__all__ = [
    "BASES",
    "DEMANDS",
    "CapacityRule",
    "CategoryRule",
    "Profile",
    "describe_profile",
    "list_profiles",
    "load_profile",
    "resolve_rules",
]

_OVERRIDABLE = {
    "minutes",
    "metres",
    "walk_speed_m_s",
    "target_share",
    "demand",
    "speed",
    "capacity_amount",
    "capacity_per",
    "capacity_of",
    "capacity_unit",
}


@dataclass(frozen=True)
class Profile:
    """A named set of category rules as read from a profile file (values not yet resolved)."""

    name: str
    title: str
    source: str
    speeds: dict[str, dict[str, Any]]
    categories: dict[str, dict[str, Any]]


def list_profiles() -> list[str]:
    """Names of the profiles shipped with cjgis."""
    folder = resources.files("cjgis") / "profiles"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_profile(name_or_path: str | Path) -> Profile:
    """Read a shipped profile by name, or a profile file of your own.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        ``"hangzhou_2017"``, ``"gb50180_2018"``, or a path to a TOML file of the same form.

    Returns
    -------
    Profile
        The profile's speeds and category rules, checked for unknown values.
    """
    if str(name_or_path) in list_profiles():
        text = (resources.files("cjgis") / "profiles" / f"{name_or_path}.toml").read_text(
            encoding="utf-8"
        )
        where = f"profile {name_or_path}"
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise StudyFileError(
                f"standards profile {name_or_path!r} not found. Fix: use one "
                f"of {', '.join(list_profiles())} or a path to a TOML file"
            )
        text, where = path.read_text(encoding="utf-8-sig"), str(path)
    data = tomllib.loads(text)
    meta = data.get("profile", {})
    profile = Profile(
        meta.get("name", str(name_or_path)),
        meta.get("title", ""),
        meta.get("source", ""),
        data.get("speeds", {}),
        data.get("categories", {}),
    )
    for key, body in profile.categories.items():
        _check_category(body, f"{where}: [categories.{key}]")
    return profile


def _check_category(body: dict[str, Any], where: str) -> None:
    if body.get("demand", "residents") not in DEMANDS:
        raise StudyFileError(f"{where}: demand = {body['demand']!r}. Fix: use one of {DEMANDS}")
    if body.get("basis", "standard") not in BASES:
        raise StudyFileError(f"{where}: basis = {body['basis']!r}. Fix: use one of {BASES}")
    if "minutes" in body and "metres" in body:
        raise StudyFileError(f"{where}: gives both minutes and metres. Fix: keep one")


def _capacity(body: dict[str, Any], override: dict[str, Any]) -> CapacityRule | None:
    base = dict(body.get("capacity") or {})
    for key in ("amount", "per", "of", "unit"):
        if f"capacity_{key}" in override:
            base[key] = override[f"capacity_{key}"]
    if not base:
        return None
    if base.get("of", "residents") not in DEMANDS:
        raise StudyFileError(f"capacity of = {base['of']!r}. Fix: use one of {DEMANDS}")
    return CapacityRule(
        unit=str(base.get("unit", "")),
        unit_zh=str(base.get("unit_zh", "")),
        amount=float(base["amount"]),
        per=float(base.get("per", 1)),
        of=str(base.get("of", "residents")),
        source=str(base.get("source", "")),
    )


def resolve_rules(
    profile: Profile | None,
    *,
    options: AnalysisOptions,
    explicit: set[str] | frozenset[str] = frozenset(),
    overrides: dict[str, dict[str, Any]] | None = None,
    speeds: dict[str, float] | None = None,
) -> tuple[CategoryRule, ...]:
    """Resolve every category's rule from study overrides, explicit options and the profile.

    Parameters
    ----------
    profile : Profile or None
        The chosen profile (None: only study overrides and defaults).
    options : AnalysisOptions
        The run's options; their values count as explicit only if named in ``explicit``.
    explicit : set of str
        ``[analysis]`` keys written in the study file (``minutes``, ``walk_speed_m_s``,
        ``target_share``): they apply to every category.
    overrides : dict, optional
        ``[standards.categories.<key>]`` tables of the study file.
    speeds : dict, optional
        ``[standards.speeds]``: group -> m/s, overriding the profile's speeds.

    Returns
    -------
    tuple of CategoryRule
        One rule per category named by the profile or the overrides.
    """
    overrides = overrides or {}
    categories = dict(profile.categories) if profile else {}
    group_speed = {g: float(v["m_s"]) for g, v in (profile.speeds if profile else {}).items()}
    group_speed.update(speeds or {})
    rules = []
    for key in list(categories) + [k for k in overrides if k not in categories]:
        body, over = categories.get(key, {}), overrides.get(key, {})
        unknown = set(over) - _OVERRIDABLE
        if unknown:
            raise StudyFileError(
                f"[standards.categories.{key}]: unknown {sorted(unknown)}. "
                f"Fix: use {sorted(_OVERRIDABLE)}"
            )
        merged = {**body, **over}
        _check_category(merged, f"[standards.categories.{key}]")
        speed = _pick(
            "walk_speed_m_s",
            over,
            explicit,
            options,
            group_speed.get(merged.get("speed", "general"), options.walk_speed_m_s),
        )
        if "minutes" in over or "metres" in over:
            threshold = over.get("metres", over.get("minutes", 0) * 60 * speed)
        elif "minutes" in explicit:
            threshold = options.minutes * 60 * speed
        elif "metres" in body or "minutes" in body:
            threshold = body.get("metres", body.get("minutes", 0) * 60 * speed)
        else:
            threshold = options.minutes * 60 * speed
        rules.append(
            CategoryRule(
                key=key,
                name_zh=str(merged.get("name_zh", category_info(key).name_zh)),
                threshold_m=float(threshold),
                walk_speed_m_s=float(speed),
                demand=str(merged.get("demand", "residents")),
                target_share=float(
                    _pick(
                        "target_share",
                        over,
                        explicit,
                        options,
                        body.get("target_share", options.target_share),
                    )
                ),
                capacity=_capacity(body, over),
                basis=str(merged.get("basis", "standard" if body else "planner rule")),
                source=str(merged.get("source", "study file")),
            )
        )
    return tuple(rules)


def _pick(name: str, over: dict, explicit, options: AnalysisOptions, fallback: Any) -> Any:
    if name in over:
        return over[name]
    if name in explicit:
        return getattr(options, name)
    return fallback


def describe_profile(profile: Profile, options: AnalysisOptions) -> str:
    """Text for ``cjgis standards``: each category's rule and its source."""
    lines = [f"{profile.name}: {profile.title}", f"  source: {profile.source}"]
    for group, value in profile.speeds.items():
        lines.append(f"  speed {group}: {value['m_s']} m/s ({value.get('source', '')})")
    for rule in resolve_rules(profile, options=options):
        reach = f"{rule.threshold_m:g} m = {rule.minutes:.1f} min at {rule.walk_speed_m_s:g} m/s"
        lines.append(
            f"  {rule.key} {rule.name_zh} [{rule.basis}]: {reach}, "
            f"{rule.target_share:.0%} of {rule.demand}"
        )
        if rule.capacity:
            lines.append(f"      capacity {rule.capacity.describe()} ({rule.capacity.source})")
        lines.append(f"      source: {rule.source}")
    return "\n".join(lines)
