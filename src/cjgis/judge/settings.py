"""Analysis settings: every default with the source it comes from.

An :class:`AnalysisOptions` is a frozen value: the analysis of one study is a pure function of
its inputs and these options, so a batch of districts can run in parallel (e.g. on Dask)
without shared state. Defaults marked (?) are planning conventions from secondary sources,
shown to the user as editable defaults, never as law.

Attributes
----------
minutes : float
    Walking-time threshold. Default 15, the 15-minute life circle of GB 50180-2018
    《城市居住区规划设计标准》 (15分钟生活圈) and the 2017 Hangzhou opinion's 15分钟便民服务圈.
walk_speed_m_s : float
    Walking speed in metres per second. Default 1.0 (60 m/min), the convention behind
    GB 50180's "15 minutes ≈ 900 m"; elderly analyses often use 0.8-0.9 (Gates et al. 2006).
target_share : float
    Share of residents that must be within reach for a community to pass (status ``ok``).
    Default 0.9, a planner rule (?) - no standard fixes it.
service_area_buffer_m : float
    Half-width in metres by which reached streets are widened into a service-area polygon
    (the walkable strip either side of a street, where doors open). Default 40.
max_snap_m : float
    Residences or facilities farther than this from every walkable street are rejected
    (or raise, with ``strict``). Default 500 m.
crs : str or None
    Metric CRS for all distances. ``None`` picks CGCS2000 3-degree Gauss-Krüger by longitude
    inside China (EPSG:4549 for Hangzhou), UTM elsewhere.
facility_areas : bool
    Also build one service area per facility (a limited search per facility). Default True;
    turn off for a city (2,000 facilities), where the dissolved category areas remain.
bands : bool
    Also draw the nested 5- and 10-minute bands below each threshold. Default True; a
    city-wide run may turn them off (each band is one more city-sized area per category).
strict : bool
    Raise on the first rejected row instead of listing it in ``rejected.csv``, and when a
    rule counts a group (elderly, households) the residents data do not hold. Default False.
elderly_share : float or None
    Declared estimate of the share of residents aged 60 and over (老年人权益保障法 art. 2;
    Chinese statistics), used only where the residents data have no elderly counts and a
    rule needs them; every output then names the estimate as the 口径. No default: a
    planner declares it (Hangzhou's registered population was 22.16 % aged 60+ in 2017 (?)).
household_size : float or None
    Declared persons per household, estimating households where the data have no counts.
elderly_age : int
    The age from which residents count as elderly, named in every 口径: 60, the definition of
    the 老年人权益保障法 (art. 2) and of Chinese statistics. Editable for a study whose elderly
    counts use another threshold (e.g. 65); the counts themselves come from the data.
rules : tuple of CategoryRule
    Per-category rules resolved from a standards profile (:mod:`cjgis.judge.standards`); a category
    without one is checked against ``minutes``, ``walk_speed_m_s`` and ``target_share``.
    Every rule's category is assessed, with or without facilities in the input.
exclude : tuple of str
    Categories left out explicitly (``[standards] exclude``): listed in every output as
    未评价 (not assessed); their facilities are rejected rows.
standards : StandardsChoice or None
    Where ``rules`` came from (set by :func:`cjgis.run.study.load_study`), so a what-if with other
    minutes, speeds or targets can resolve them again.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from cjgis._errors import InputError
from cjgis.inputs.categories import category_info
from cjgis.judge.rules import CategoryRule, StandardsChoice

SOURCES: dict[str, str] = {
    "minutes": "GB 50180-2018 15-minute life circle; Hangzhou 2017 opinion 15分钟便民服务圈",
    "walk_speed_m_s": "GB 50180-2018 convention 1.0 m/s (15 min ≈ 900 m)",
    "target_share": "planner rule (?), editable",
    "service_area_buffer_m": "cjgis display convention: walkable strip either side of a street",
    "max_snap_m": "cjgis data-quality rule: farther than this from any street is suspect",
    "elderly_share": "declared by the planner (no default); 60+ per 老年人权益保障法 art. 2",
    "household_size": "declared by the planner (no default)",
    "elderly_age": "老年人权益保障法 art. 2: citizens aged 60 and over",
}


#: Fields of :class:`AnalysisOptions` filled from ``[standards]``, not ``[analysis]`` keys.
NOT_ANALYSIS_KEYS = ("rules", "exclude", "standards")


@dataclass(frozen=True)
class AnalysisOptions:
    """Options of one analysis run; see the module docstring for meanings and sources."""

    minutes: float = 15.0
    walk_speed_m_s: float = 1.0
    target_share: float = 0.9
    service_area_buffer_m: float = 40.0
    max_snap_m: float = 500.0
    crs: str | None = None
    facility_areas: bool = True
    bands: bool = True
    strict: bool = False
    elderly_share: float | None = None
    household_size: float | None = None
    elderly_age: int = 60
    rules: tuple[CategoryRule, ...] = ()
    exclude: tuple[str, ...] = ()
    standards: StandardsChoice | None = None

    def __post_init__(self) -> None:
        positive = ("minutes", "walk_speed_m_s", "service_area_buffer_m", "max_snap_m")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise InputError(f"{name} must be a positive number, got {value!r}")
        if not 0.0 < self.target_share <= 1.0:
            raise InputError(f"target_share must be in (0, 1], got {self.target_share!r}")
        if self.elderly_share is not None and not 0.0 < self.elderly_share < 1.0:
            raise InputError(f"elderly_share must be in (0, 1), got {self.elderly_share!r}")
        if self.household_size is not None and not self.household_size > 0:
            raise InputError(f"household_size must be positive, got {self.household_size!r}")

    @property
    def threshold_m(self) -> float:
        """Walking distance in metres reached within ``minutes`` at ``walk_speed_m_s``."""
        return self.minutes * 60.0 * self.walk_speed_m_s

    @property
    def band_minutes(self) -> tuple[float, ...]:
        """Nested service-area bands: the 5- and 10-minute circles below the threshold, and it.

        GB 50180-2018's 5/10/15-minute life circles; the last band is ``minutes`` itself.
        """
        return tuple(sorted({m for m in (5.0, 10.0) if m < self.minutes} | {self.minutes}))

    def rule_for(self, category: str) -> CategoryRule:
        """Return the rule ``category`` is checked against (a default one if none is set)."""
        for rule in self.rules:
            if rule.key == category:
                return rule
        return default_rule(category, self)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Return the names of the options a study file may set in ``[analysis]``."""
        return tuple(f.name for f in fields(cls) if f.name not in NOT_ANALYSIS_KEYS)


def default_rule(key: str, options: AnalysisOptions) -> CategoryRule:
    """Return the rule of a category no profile knows: the run's minutes, speed, target."""
    return CategoryRule(
        key=key,
        name_zh=category_info(key).name_zh,
        threshold_m=options.threshold_m,
        walk_speed_m_s=options.walk_speed_m_s,
        target_share=options.target_share,
        basis="none",
        source="no standard: the study's [analysis] values",
    )
