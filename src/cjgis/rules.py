"""Rules as values: what one facility category is checked against.

A :class:`CategoryRule` holds a walking threshold, the speed of the group served, whose
demand counts, the target share, an optional :class:`CapacityRule` and where the rule comes
from. :mod:`cjgis.standards` reads them from profiles; :mod:`cjgis.settings` supplies the
rule of a category no profile names.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMANDS = ("residents", "elderly", "households")
BASES = ("standard", "planner rule", "none")


@dataclass(frozen=True)
class CapacityRule:
    """Required capacity: ``amount`` ``unit`` per ``per`` of the ``of`` group."""

    unit: str
    unit_zh: str
    amount: float
    per: float
    of: str
    source: str = ""

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
        Walking distance within reach, in metres.
    walk_speed_m_s : float
        Walking speed of the group served; walking minutes are reported at this speed.
    demand : {"residents", "elderly", "households"}
        Whose coverage decides the status.
    target_share : float
        Share of the demand that must be within reach.
    capacity : CapacityRule or None
        Required capacity, if any.
    basis : {"standard", "planner rule", "none"}
        Where the rule comes from; ``none`` means no standard (无标准).
    source : str
        The rule's source, shown in ``cjgis standards`` and the scorecard.
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

    @property
    def minutes(self) -> float:
        """The threshold in walking minutes at this rule's speed."""
        return self.threshold_m / (60.0 * self.walk_speed_m_s)

    @property
    def band_minutes(self) -> tuple[float, ...]:
        """Nested bands: 5 and 10 minutes below the threshold, and the threshold."""
        return tuple(sorted({m for m in (5.0, 10.0) if m < self.minutes - 1e-9} | {self.minutes}))
