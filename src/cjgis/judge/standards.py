"""Planning standards as data: profiles of per-category rules, each value with its source.

A profile (TOML in ``cjgis/profiles/``, or a file of your own) gives each facility category a
walking threshold (a tier distance in metres, or minutes at a stated speed), the walking speed
of the group it serves, whose demand counts (residents, elderly, households, ...), the target
share, a capacity rule, the basis of its numbers (a standard, a planner rule, or none) and the
clause they come from. Profiles compose: a study may list several (``profile = ["a", "b"]``)
and a profile may ``includes`` others; for each category the later definition replaces the
earlier one. A study may override any value. Precedence, for every category:

1. a value in the study's ``[standards.categories.<key>]``;
2. an explicit ``[analysis] minutes``, ``walk_speed_m_s`` or ``target_share`` (all categories);
3. the profiles, later over earlier;
4. the defaults of :class:`~cjgis.judge.settings.AnalysisOptions`.

A standard's distance or target changed by the study is no longer the standard's: the rule's
basis becomes ``planner rule`` (规划建议值) and its source says what the study set. Categories
no profile knows are analysed with the defaults and reported as ``无标准`` (no standard).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from cjgis._errors import InputError, StudyFileError
from cjgis.inputs.categories import category_info
from cjgis.judge.rules import BASES, DEMANDS, SCALES, CapacityRule, CategoryRule, StandardsChoice
from cjgis.judge.settings import AnalysisOptions
from cjgis.judge.verdict import BASIS_ZH

__all__ = [
    "BASES",
    "DEMANDS",
    "CapacityRule",
    "CategoryRule",
    "Profile",
    "compose",
    "describe_profile",
    "list_profiles",
    "load_profile",
    "resolve_rules",
    "rules_of",
    "with_profile",
]

#: Keys a study file may set in `[standards.categories.<key>]` (listed: docs/manual/study_file.md).
OVERRIDABLE = {
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
    "capacity_unit_zh",
}
#: Keys a profile's category table may hold.
_CATEGORY_KEYS = {
    "name_zh",
    "minutes",
    "metres",
    "speed",
    "demand",
    "target_share",
    "basis",
    "source",
    "verified",
    "quote",
    "url",
    "scale",
    "capacity",
}


@dataclass(frozen=True)
class Profile:
    """A named set of category rules as read from profile files (values not yet resolved)."""

    name: str
    title: str
    source: str
    speeds: dict[str, dict[str, Any]]
    categories: dict[str, dict[str, Any]]
    listed: dict[str, dict[str, str]] = field(default_factory=dict)


def list_profiles() -> list[str]:
    """Names of the profiles shipped with cjgis."""
    folder = resources.files("cjgis") / "profiles"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def _read(name_or_path: str | Path, base: Path | None) -> tuple[dict[str, Any], str]:
    if str(name_or_path) in list_profiles():
        text = (resources.files("cjgis") / "profiles" / f"{name_or_path}.toml").read_text(
            encoding="utf-8"
        )
        return tomllib.loads(text), f"profile {name_or_path}"
    path = Path(name_or_path)
    if base is not None and not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise StudyFileError(
            f"standards profile {name_or_path!r} not found. Fix: use one "
            f"of {', '.join(list_profiles())} or a path to a TOML file"
        )
    return tomllib.loads(path.read_text(encoding="utf-8-sig")), str(path)


def load_profile(
    name_or_path: str | Path, *, base: Path | None = None, _seen: tuple[str, ...] = ()
) -> Profile:
    """Read a shipped profile by name, or a profile file of your own, with what it includes.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        ``"chcj_2017"``, ``"hangzhou_2017"``, ``"gb50180_2018"``, or a path to a TOML file
        of the same form.
    base : pathlib.Path, optional
        Folder a relative path is read from (the study file's).

    Returns
    -------
    Profile
        The profile's speeds and category rules (its ``includes`` first, its own last),
        checked for unknown values.
    """
    if str(name_or_path) in _seen:
        raise StudyFileError(f"standards profile {name_or_path!r} includes itself")
    data, where = _read(name_or_path, base)
    meta = data.get("profile", {})
    included = [
        load_profile(name, base=base, _seen=(*_seen, str(name_or_path)))
        for name in meta.get("includes", [])
    ]
    own = Profile(
        meta.get("name", str(name_or_path)),
        meta.get("title", ""),
        meta.get("source", ""),
        data.get("speeds", {}),
        data.get("categories", {}),
        data.get("listed", {}),
    )
    for key, body in own.categories.items():
        _check_category(body, f"{where}: [categories.{key}]")
    for key, body in own.listed.items():
        if set(body) != {"quote", "url"}:
            raise StudyFileError(
                f"{where}: [listed.{key}] needs quote and url (the words that list the "
                "category and where they were read), nothing else"
            )
    return compose([*included, own], name=own.name, title=own.title, source=own.source)


def compose(
    profiles: list[Profile], *, name: str | None = None, title: str = "", source: str = ""
) -> Profile:
    """One profile from several: for each category and speed, the later one wins."""
    speeds: dict[str, dict[str, Any]] = {}
    categories: dict[str, dict[str, Any]] = {}
    listed: dict[str, dict[str, str]] = {}
    for profile in profiles:
        speeds.update(profile.speeds)
        categories.update(profile.categories)
        listed.update(profile.listed)
    return Profile(
        name or " + ".join(p.name for p in profiles),
        title or " + ".join(p.title for p in profiles if p.title),
        source or "; ".join(p.source for p in profiles if p.source),
        speeds,
        categories,
        listed,
    )


def _check_category(body: dict[str, Any], where: str) -> None:
    unknown = set(body) - _CATEGORY_KEYS
    if unknown:
        raise StudyFileError(
            f"{where}: unknown {sorted(unknown)}. Fix: use {sorted(_CATEGORY_KEYS)}"
        )
    if body.get("demand", "residents") not in DEMANDS:
        raise StudyFileError(f"{where}: demand = {body['demand']!r}. Fix: use one of {DEMANDS}")
    if body.get("basis", "standard") not in BASES:
        raise StudyFileError(f"{where}: basis = {body['basis']!r}. Fix: use one of {BASES}")
    if body.get("scale", "walk") not in SCALES:
        raise StudyFileError(f"{where}: scale = {body['scale']!r}. Fix: use one of {SCALES}")
    if "minutes" in body and "metres" in body:
        raise StudyFileError(f"{where}: gives both minutes and metres. Fix: keep one")
    if body.get("scale") == "district" and not body.get("capacity"):
        raise StudyFileError(f"{where}: a district-scale rule needs a capacity. Fix: add one")
    if body.get("verified") is True:
        _check_quote(body, where)


def _check_quote(body: dict[str, Any], where: str) -> None:
    """Refuse ``verified = true`` without a quote and url, or a quote lacking the rule's number.

    The number is the distance in metres or the minutes, as the profile writes it.
    """
    quote, url = str(body.get("quote", "")), str(body.get("url", ""))
    if not quote or not url:
        raise StudyFileError(
            f"{where}: verified = true without quote and url. Fix: quote the clause as "
            "published and say where it was read, or set verified = false"
        )
    number = body.get("metres", body.get("minutes"))
    if number is not None and f"{float(number):g}" not in quote:
        raise StudyFileError(
            f"{where}: verified = true but the quote does not hold {float(number):g}. Fix: "
            "quote the sentence or table row that gives the number"
        )


#: The parts of a capacity rule a study may set, as ``capacity_<part>``.
_CAPACITY_PARTS = ("amount", "per", "of", "unit", "unit_zh")


def _capacity(key: str, body: dict[str, Any], override: dict[str, Any]) -> CapacityRule | None:
    base = dict(body.get("capacity") or {})
    changed = [part for part in _CAPACITY_PARTS if f"capacity_{part}" in override]
    for part in changed:
        base[part] = override[f"capacity_{part}"]
    if not base:
        return None
    where = f"[standards.categories.{key}]"
    if "amount" not in base:
        raise StudyFileError(
            f"{where}: sets {', '.join(f'capacity_{p}' for p in changed)} but the profile gives "
            "this category no capacity to change. Fix: add capacity_amount (and capacity_per, "
            "capacity_of, capacity_unit), e.g. capacity_amount = 40, capacity_per = 1000, "
            'capacity_of = "elderly", capacity_unit = "beds"'
        )
    for part in ("amount", "per"):
        value = base.get(part, 1)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise StudyFileError(
                f"{where}: capacity_{part} = {value!r} is not a positive number. "
                "Fix: write a number, e.g. 40"
            )
    if base.get("of", "residents") not in DEMANDS:
        raise StudyFileError(
            f"{where}: capacity_of = {base['of']!r}. Fix: use one of {', '.join(DEMANDS)}"
        )
    source, basis = str(base.get("source", "")), str(base.get("basis", "planner rule"))
    if changed:
        basis = "planner rule"
        source = f"{source}; {', '.join(changed)} set in the study file (规划建议值)".lstrip("; ")
    return CapacityRule(
        unit=str(base.get("unit", "")),
        unit_zh=str(base.get("unit_zh", "")),
        amount=float(base["amount"]),
        per=float(base.get("per", 1)),
        of=str(base.get("of", "residents")),
        source=source,
        basis=basis,
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
        The chosen (composed) profile; None: only study overrides and defaults.
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
        unknown = set(over) - OVERRIDABLE
        if unknown:
            raise StudyFileError(
                f"[standards.categories.{key}]: unknown {sorted(unknown)}. "
                f"Fix: use {sorted(OVERRIDABLE)}"
            )
        merged = {**body, **over}
        if "minutes" in over or "metres" in over:  # the study's distance replaces the profile's
            merged = {k: v for k, v in merged.items() if k not in ("minutes", "metres")}
            merged.update({k: over[k] for k in ("minutes", "metres") if k in over})
        # the study-only keys (speed in m/s, capacity parts) are checked by _rule and _capacity
        checked = {k: v for k, v in merged.items() if k not in OVERRIDABLE - _CATEGORY_KEYS}
        _check_category(checked, f"[standards.categories.{key}]")
        rules.append(_rule(key, body, over, merged, options, explicit, group_speed))
    return tuple(rules)


def rules_of(
    choice: StandardsChoice, options: AnalysisOptions, *, explicit: frozenset[str] = frozenset()
) -> tuple[CategoryRule, ...]:
    """Resolve the rules of a study's standards choice under ``options``.

    Parameters
    ----------
    choice : StandardsChoice
        The study's profiles, overrides and speeds (:func:`cjgis.run.study.load_study`).
    options : AnalysisOptions
        The options whose ``minutes``, ``walk_speed_m_s`` and ``target_share`` count where
        the study file writes them, or where ``explicit`` names them.
    explicit : frozenset of str, optional
        More ``[analysis]`` keys to take as written (a what-if's changed values).

    Returns
    -------
    tuple of CategoryRule
        What :func:`resolve_rules` returns for the composed profiles.
    """
    base = Path(choice.base) if choice.base else None
    profiles = [
        load_profile(name, base=base) if isinstance(name, str | Path) else name
        for name in choice.profiles
    ]
    return resolve_rules(
        compose(profiles) if profiles else None,
        options=options,
        explicit=choice.explicit | explicit,
        overrides=choice.overrides,
        speeds=choice.speeds,
    )


#: Options that, set away from their defaults, apply to every category (as ``[analysis]`` keys).
RULE_OPTIONS = ("minutes", "walk_speed_m_s", "target_share")


def with_profile(options: AnalysisOptions, profile: str | Path | Profile) -> AnalysisOptions:
    """Return ``options`` with the rules of ``profile``, as a study file naming it would give.

    Parameters
    ----------
    options : AnalysisOptions
        Options without rules. ``minutes``, ``walk_speed_m_s`` and ``target_share`` set away
        from their defaults apply to every category, as the same keys written in a study
        file's ``[analysis]`` do (a standard changed that way becomes a planner rule).
    profile : str, pathlib.Path or Profile
        A shipped profile's name (:func:`list_profiles`), a profile file, a :class:`Profile`
        (:func:`load_profile`), or ``"none"``: no rules, every category 无标准.

    Returns
    -------
    AnalysisOptions
        With ``rules`` and ``standards`` set (what-if resolves the rules again from them).
    """
    defaults = AnalysisOptions()
    explicit = frozenset(k for k in RULE_OPTIONS if getattr(options, k) != getattr(defaults, k))
    if isinstance(profile, str) and profile == "none":
        choice = StandardsChoice(explicit=explicit)
    elif isinstance(profile, str | Path | Profile):
        if not isinstance(profile, Profile):
            load_profile(profile)  # a clear error now for a name or file that is not one
        choice = StandardsChoice(profiles=(profile,), explicit=explicit)
    else:
        raise InputError(
            f"profile={profile!r} is not a profile. Fix: pass one of "
            f'{", ".join(list_profiles())}, "none", a path to a TOML profile or a Profile '
            "from cjgis.load_profile"
        )
    return replace(options, rules=rules_of(choice, options), standards=choice)


def _rule(key, body, over, merged, options, explicit, group_speed) -> CategoryRule:
    """One category's rule (see :func:`resolve_rules` for the precedence)."""
    speed = _pick(
        "walk_speed_m_s",
        over,
        explicit,
        options,
        group_speed.get(merged.get("speed", "general"), options.walk_speed_m_s),
    )
    changed = []  # a standard's numbers the study replaced
    if "minutes" in over or "metres" in over:
        threshold = over.get("metres", over.get("minutes", 0) * 60 * speed)
        changed.append("distance")
    elif "minutes" in explicit:
        threshold = options.minutes * 60 * speed
        changed.append("[analysis] minutes")
    elif "metres" in body:
        threshold = body["metres"]  # a tier distance stays a distance at any speed
    elif "minutes" in body:
        threshold = body["minutes"] * 60 * speed
        if "walk_speed_m_s" in over or "walk_speed_m_s" in explicit:
            changed.append("walking speed")
    else:
        threshold = options.minutes * 60 * speed
    target = _pick("target_share", over, explicit, options, body.get("target_share"))
    if "target_share" in over or "target_share" in explicit:
        changed.append(f"target share {float(target):.0%}")
    target = options.target_share if target is None else target
    basis = str(merged.get("basis", "standard" if body else "planner rule"))
    source = str(merged.get("source", "study file"))
    if changed and basis == "standard":
        basis = "planner rule"
        source = f"{source}; {', '.join(changed)} set in the study file (规划建议值)"
    scale = str(merged.get("scale", "walk"))
    return CategoryRule(
        key=key,
        name_zh=str(merged.get("name_zh", category_info(key).name_zh)),
        threshold_m=float(threshold) if scale == "walk" else float("inf"),
        walk_speed_m_s=float(speed),
        demand=str(merged.get("demand", "residents")),
        target_share=float(target),
        capacity=_capacity(key, body, over),
        basis=basis,
        source=source,
        verified=bool(merged.get("verified", True)),
        scale=scale,
        quote=str(merged.get("quote", "")),
        url=str(merged.get("url", "")),
    )


def _pick(name: str, over: dict, explicit, options: AnalysisOptions, fallback: Any) -> Any:
    if name in over:
        return over[name]
    if name in explicit:
        return getattr(options, name)
    return fallback


def _basis_text(basis: str) -> str:
    return f"{BASIS_ZH[basis]} {basis}"


def describe_profile(profile: Profile, options: AnalysisOptions) -> str:
    """Text for ``cjgis standards``: each category's values, basis, source and whether verified."""
    lines = [f"{profile.name}: {profile.title}", f"  source: {profile.source}"]
    for group, value in profile.speeds.items():
        lines.append(f"  speed {group}: {value['m_s']} m/s ({value.get('source', '')})")
    for rule in resolve_rules(profile, options=options):
        if rule.scale == "district":
            reach = "区级 district-level: capacity over the study area, no walking catchment"
        else:
            reach = (
                f"{rule.threshold_m:g} m = {rule.minutes:.1f} min at {rule.walk_speed_m_s:g} m/s, "
                f"{rule.target_share:.0%} of {rule.demand}"
            )
        lines.append(f"  {rule.key} {rule.name_zh} [{_basis_text(rule.basis)}]: {reach}")
        lines.append(f"      source: {rule.source}")
        if rule.quote:
            lines.append(f"      原文 quote: 「{rule.quote}」 ({rule.url})")
        if not rule.verified:
            lines.append("      未核实 unverified: not checked against the standard's text here")
        if rule.key in profile.listed:
            listed = profile.listed[rule.key]
            lines.append(f"      列入依据 listed by: 「{listed['quote']}」 ({listed['url']})")
        if rule.capacity:
            cap = rule.capacity
            lines.append(
                f"      capacity {cap.describe()} [{_basis_text(cap.basis)}]: {cap.source}"
            )
    return "\n".join(lines)
