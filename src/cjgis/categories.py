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


#: Editable keyword rules: a facility whose name or type matches a pattern gets the category
#: (from the 2017 opinion's wording and common Amap/Baidu type names). First match wins.
_E_BIKE = r"(?:电动车|电瓶车|电动自行车|非机动车)"
KEYWORD_RULES: dict[str, str] = {
    "elderly_care": r"养老|敬老|照料中心|老年食堂|颐养|护理院|amenity=nursing_home"
    r"|social_facility=nursing_home|social_facility:for=senior",
    "ev_charging": rf"充电.*{_E_BIKE}|{_E_BIKE}.*充电|amenity=charging_station",
    "ceremony_hall": r"红白喜事|家宴|礼堂|amenity=community_centre",
    "tool_storage": r"农具|农用具",
}


def category_from_text(texts, rules: dict[str, str] | None = None):
    """Category key for each text by the first matching keyword rule (missing if none).

    Parameters
    ----------
    texts : pandas.Series
        Names and types joined, e.g. ``"沈家社区居家养老服务照料中心 生活服务;养老服务"``.
    rules : dict, optional
        Category -> regular expression; :data:`KEYWORD_RULES` if None.

    Returns
    -------
    pandas.Series
        Category keys, ``<NA>`` where no rule matches.
    """
    import pandas as pd

    out = pd.Series(pd.NA, index=texts.index, dtype="string")
    text = texts.fillna("").astype(str)
    for key, pattern in (rules or KEYWORD_RULES).items():
        hit = out.isna() & text.str.contains(pattern, regex=True)
        out[hit] = key
    return out
