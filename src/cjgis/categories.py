"""Facility categories of the 2017 Hangzhou opinion: keys, Chinese names and map colours.

Other category keys are allowed: they are analysed the same way and shown with their key.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """How one facility category is named and drawn."""

    key: str
    name_zh: str
    name_en: str
    colour: str
    glyph: str


CATEGORIES: dict[str, Category] = {
    c.key: c
    for c in (
        Category("elderly_care", "养老服务设施", "elderly care", "#d95f02", "养"),
        Category("ev_charging", "电瓶车集中充电点", "e-bike charging", "#1b9e77", "充"),
        Category("ceremony_hall", "红白喜事用房", "ceremony hall", "#7570b3", "礼"),
        Category("tool_storage", "农用具集中放置点", "farm-tool storage", "#a6761d", "农"),
    )
}

_EXTRA_COLOURS = ("#e7298a", "#66a61e", "#e6ab02", "#1f78b4", "#b15928", "#6a3d9a")


def category_info(key: str) -> Category:
    """Return the :class:`Category` for ``key``; unknown keys get a stable colour.

    Parameters
    ----------
    key : str
        Category key, e.g. ``"elderly_care"`` or a user's own such as ``"clinic"``.

    Returns
    -------
    Category
        Known metadata, or the key itself as name with a colour chosen from the key.
    """
    if key in CATEGORIES:
        return CATEGORIES[key]
    colour = _EXTRA_COLOURS[sum(key.encode()) % len(_EXTRA_COLOURS)]
    return Category(key, key, key, colour, key[:1].upper())


def ordered_categories(keys: object) -> list[str]:
    """Return category keys with the four standard ones first, then the others sorted."""
    present = {str(k) for k in keys}
    known = [k for k in CATEGORIES if k in present]
    return known + sorted(present - set(CATEGORIES))
