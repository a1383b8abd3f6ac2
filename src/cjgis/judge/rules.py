"""Rules as values: what one facility category is checked against.

A :class:`CategoryRule` holds a walking threshold, the speed of the group served, whose
demand counts, the target share, an optional :class:`CapacityRule` and where the rule comes
from. :mod:`cjgis.judge.standards` reads them from profiles; :mod:`cjgis.judge.settings`
supplies the rule of a category no profile names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Demand groups a rule may count: residents, and the count columns residents may carry.
DEMANDS = ("residents", "elderly", "households", "villagers", "renters")
#: Where a number comes from: a standard (国家标准/地方规定), a planner rule (规划建议值), none.
BASES = ("standard", "planner rule", "none")
#: How a rule is assessed: per community by walking reach, or over the whole study area by
#: capacity only (residential homes: a district quantity, no walking catchment).
SCALES = ("walk", "district")
#: Walking distances of the GB 50180-2018 life-circle tiers (§3.0.4: 5/10/15 minutes).
TIER_DISTANCES_M = (300.0, 500.0, 1000.0)


@dataclass(frozen=True)
class CapacityRule:
    """Required capacity: ``amount`` ``unit`` per ``per`` of the ``of`` group."""

    unit: str
    unit_zh: str
    amount: float
    per: float
    of: str
    source: str = ""
    basis: str = "planner rule"

    def required(self, demand: float) -> float:
        """Capacity required for ``demand`` people or households."""
        return self.amount * demand / self.per

    def describe(self) -> str:
        """Return e.g. ``40 床位 beds / 1000 elderly``."""
        return f"{self.amount:g} {self.unit_zh} {self.unit} / {self.per:g} {self.of}"


@dataclass(frozen=True)
class CategoryRule:
    """The rule a category is checked against.

    Attributes
    ----------
    key, name_zh : str
        Category key and Chinese name.
    threshold_m : float
        Walking distance within reach, in metres (a tier's distance stays a distance at any
        speed; a time-based rule's minutes times its speed).
    walk_speed_m_s : float
        Walking speed of the group served; walking minutes are reported at this speed.
    demand : str
        Whose coverage decides the status (:data:`DEMANDS`).
    target_share : float
        Share of the demand that must be within reach (1.0 where a standard asks for a
        service radius: everyone within it).
    capacity : CapacityRule or None
        Required capacity, if any.
    basis : {"standard", "planner rule", "none"}
        Where the distance and target come from; ``none`` means no standard (无标准).
    source : str
        The rule's source with its clause, shown in ``cjgis standards`` and the scorecard.
    verified : bool
        False where the value was taken from a secondary source and not checked against the
        standard's own text; ``cjgis standards`` prints it beside the value.
    scale : {"walk", "district"}
        Per community by walking reach, or over the study area by capacity only.
    quote, url : str
        The clause as published (Chinese, with table and item) and where it was read; empty
        where the value is unverified or a planner rule.
    """

    key: str
    name_zh: str
    threshold_m: float
    walk_speed_m_s: float
    demand: str = "residents"
    target_share: float = 0.9
    capacity: CapacityRule | None = None
    basis: str = "none"
    source: str = ""
    verified: bool = True
    scale: str = "walk"
    quote: str = ""
    url: str = ""

    @property
    def minutes(self) -> float:
        """The threshold in walking minutes at this rule's speed."""
        return self.threshold_m / (60.0 * self.walk_speed_m_s)

    @property
    def band_metres(self) -> tuple[float, ...]:
        """Nested bands: the life-circle tier distances below the threshold, and the threshold."""
        below = {m for m in TIER_DISTANCES_M if m < self.threshold_m - 1e-6}
        return tuple(sorted(below | {self.threshold_m}))

    @property
    def band_minutes(self) -> tuple[float, ...]:
        """:attr:`band_metres` in walking minutes at this rule's speed."""
        return tuple(m / (60.0 * self.walk_speed_m_s) for m in self.band_metres)


#: The profile a study without one is assessed against (the 2017 opinion with GB 50180).
DEFAULT_PROFILE = "chcj_2017"


@dataclass(frozen=True)
class StandardsChoice:
    """Where a study's rules come from, kept with the options so they can be resolved again.

    A what-if with other minutes, speeds or targets resolves the rules from this again
    (:func:`cjgis.judge.standards.rules_of`), as a study file with those ``[analysis]``
    values would.

    Attributes
    ----------
    profiles : tuple of str or Profile
        The profiles named (or the default one), or profiles passed in as read
        (:func:`cjgis.load_profile`); empty for ``profile = "none"``.
    default : bool
        True where the study names no profile and :data:`DEFAULT_PROFILE` is used.
    base : str or None
        Folder relative profile paths are read from (the study file's).
    overrides : dict
        ``[standards.categories.<key>]`` tables.
    speeds : dict
        ``[standards.speeds]``.
    explicit : frozenset of str
        ``[analysis]`` keys the study file writes (they apply to every category).
    """

    profiles: tuple[Any, ...] = ()
    default: bool = False
    base: str | None = None
    overrides: dict = field(default_factory=dict, hash=False)
    speeds: dict = field(default_factory=dict, hash=False)
    explicit: frozenset[str] = frozenset()

    def names(self) -> str:
        """Return the profiles' names joined with `` + `` (a profile passed in by its name)."""
        return " + ".join(p if isinstance(p, str) else p.name for p in self.profiles)

    def describe(self) -> str:
        """Say which standards the study is checked against, e.g. for a log line."""
        if not self.profiles:
            return '无标准 none (profile = "none"): every category 无标准 unless the study sets it'
        names = self.names()
        if self.default:
            return f"{names} (默认 default: no profile named)"
        return names
