"""Facility categories of the 2017 Hangzhou opinion: keys, Chinese names and map colours.

Other category keys are allowed: they are analysed the same way and shown with their key.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from cjgis._errors import InputError


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
        # GB 50180-2018 life-circle items the 2017 opinion also names (profile gb50180_2018)
        Category("community_service", "社区服务站", "community service station", "#1f78b4", "服"),
        Category("culture_station", "文化活动站", "culture station", "#e7298a", "文"),
        Category("sport", "运动健身场地", "sports ground", "#66a61e", "体"),
        Category("kindergarten", "幼儿园", "kindergarten", "#e6ab02", "幼"),
        Category("market", "菜市场或生鲜超市", "food market", "#b15928", "菜"),
        Category("convenience", "社区商业网点", "convenience shop", "#fb9a99", "便"),
        Category("health_centre", "社区卫生服务中心", "community health centre", "#6a3d9a", "医"),
        Category("nonmotor_parking", "非机动车停车场", "bicycle parking", "#8dd3c7", "停"),
        Category("police_room", "警务室", "police room", "#386cb0", "警"),
        Category("waste_point", "生活垃圾收集点", "waste collection point", "#999999", "垃"),
        Category("nursing_home", "养老院", "residential care home", "#bf5b17", "院"),
    )
}

#: Communities by share of their categories met: a grey-blue ramp (ColorBrewer Blues), apart
#: from every category colour and from the blind-spot red; readable with colour-blindness.
MET_COLOURS = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
#: A community with no category under a rule.
NO_RULE_COLOUR = "#bdbdbd"
#: Water ([map] water, OSM rivers and canals) and roads the walk filter refuses.
WATER_COLOUR, BARRIER_COLOUR = "#9ecae1", "#525252"
#: Colour of a plan's own layers (planned roads, residences, facilities) on maps and figures.
PLAN_COLOUR = "#e66101"


def met_bins(required: int) -> list[tuple[int, int, str]]:
    """Return the legend's classes of "categories met" out of ``required``: (low, high, colour).

    Every value 0 ... ``required`` falls in exactly one class. Up to five values, one class
    each; beyond, none met and all met keep their own colours and the values between are
    split into three runs of nearly equal length (0, 1-2, 3-4, 5-6, 7 for seven).
    """
    required = int(required)
    if required <= 0:
        return []
    k = len(MET_COLOURS)
    if required + 1 <= k:
        return [(v, v, MET_COLOURS[round(v / required * (k - 1))]) for v in range(required + 1)]
    size, extra = divmod(required - 1, k - 2)
    bins, low = [(0, 0, MET_COLOURS[0])], 1
    for i in range(k - 2):
        high = low + size - 1 + (i < extra)
        bins.append((low, high, MET_COLOURS[i + 1]))
        low = high + 1
    return [*bins, (required, required, MET_COLOURS[-1])]


def met_colour(met: float, required: float) -> str:
    """Return the fill of a community meeting ``met`` of ``required`` categories (its class)."""
    if not required > 0:
        return NO_RULE_COLOUR
    for low, high, colour in met_bins(int(required)):
        if low <= met <= high:
            return colour
    raise ValueError(f"{met} categories met out of {required}")


def met_classes(required: int) -> list[tuple[str, str]]:
    """Return the legend entries of :func:`met_bins`: ``("1-2/7", colour)``, one per class."""
    return [
        (f"{low}/{required}" if low == high else f"{low}–{high}/{required}", colour)
        for low, high, colour in met_bins(required)
    ]


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


def category_key(text: str) -> str:
    """Return the key of a category written as its key or Chinese name (养老服务设施: elderly_care).

    Other text is returned stripped, unchanged: an unknown key, checked by the analysis.
    """
    text = str(text).strip()
    if text in CATEGORIES:
        return text
    for key, category in CATEGORIES.items():
        if text in (category.name_zh, category.name_en):
            return key
    return text


def closest_category(text: str, known: Iterable[str]) -> str | None:
    """Return the key among ``known`` that ``text`` most likely meant, or None.

    ``text`` is compared with the keys and with their Chinese and English names, so a typo in
    either language finds its category (``elderly_car``, ``养老服务设``, ``ev charging``).
    """
    names: dict[str, str] = {}
    for key in known:
        info = category_info(key)
        for name in (key, info.name_zh, info.name_en):
            names.setdefault(name, key)
    close = difflib.get_close_matches(str(text).strip(), list(names), n=1, cutoff=0.5)
    return names[close[0]] if close else None


def category_named(text: str, known: Iterable[str], *, where: str = "category") -> str:
    """Return the key among ``known`` that ``text`` names: the key, or its Chinese or English name.

    Parameters
    ----------
    text : str
        ``"elderly_care"``, ``"养老服务设施"`` or ``"elderly care"``.
    known : iterable of str
        The category keys that can be meant (an analysis's categories).
    where : str, optional
        Who asks, for the message (``"suggest_sites"``).

    Returns
    -------
    str
        The key.

    Raises
    ------
    InputError
        ``text`` names none of them; the message offers the likely one ("did you mean") and
        lists them all, keys with their Chinese names.
    """
    known = list(known)
    key = category_key(text)
    if key in known:
        return key
    guess = closest_category(text, known)
    hint = f"did you mean {guess!r} ({category_info(guess).name_zh})? " if guess else ""
    listed = ", ".join(f"{k} ({category_info(k).name_zh})" for k in known)
    raise InputError(f"{where}: no category {text!r} here. Fix: {hint}use one of {listed}")


def ordered_categories(keys: object) -> list[str]:
    """Return category keys in the registry's order (the four of 2017 first), others sorted."""
    present = {str(k) for k in keys}
    known = [k for k in CATEGORIES if k in present]
    return known + sorted(present - set(CATEGORIES))


#: Editable keyword rules: a facility whose name or type matches a pattern gets the category
#: (the 2017 opinion's wording, Hangzhou's current terms and common Amap/Baidu type names).
#: First match wins, so residential homes come before day care and e-bike charging before
#: parking. :data:`KEYWORD_EXCLUDE` keeps look-alikes out.
_E_BIKE = r"(?:电动车|电瓶车|电动自行车|非机动车)"
KEYWORD_RULES: dict[str, str] = {
    "nursing_home": r"养老院|敬老院|福利院|老年公寓|护理院|养护院|amenity=nursing_home"
    r"|social_facility=nursing_home",
    "elderly_care": r"居家养老|照料中心|日间照料|托老所|助餐|老年食堂|长者食堂|颐养"
    r"|养老服务|social_facility:for=senior",
    "ev_charging": rf"充电.*{_E_BIKE}|{_E_BIKE}.*充[电停换]|充换电|换电柜|充停场所"
    r"|amenity=charging_station.*bicycle=(?:yes|designated)",
    "ceremony_hall": r"红白喜事|家宴|礼堂",
    "tool_storage": r"农具|农用具",
    "community_service": r"社区服务站|社区服务中心|党群服务",
    "culture_station": r"文化活动站|文化站|文化家园",
    "sport": r"健身|运动场|球场|体育场地",
    "kindergarten": r"幼儿园",
    "market": r"菜市场|农贸市场|生鲜超市",
    "convenience": r"便利店|药店|药房",
    "health_centre": r"卫生服务中心|卫生服务站|社区医院|卫生室",
    "nonmotor_parking": rf"{_E_BIKE}停车|自行车停车",
    "police_room": r"警务室|警务站",
    "waste_point": r"垃圾收集|垃圾分类",
}
#: Names that match a rule but are not that facility: pension-insurance offices are not
#: elderly care; a school's auditorium (礼堂) is not a ceremony hall.
KEYWORD_EXCLUDE: dict[str, str] = {
    "elderly_care": r"保险|社保|医保",
    "nursing_home": r"保险|社保|医保",
    "ceremony_hall": r"学校|中学|小学|大学|学院|幼儿园",
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
        if key in KEYWORD_EXCLUDE:
            hit &= ~text.str.contains(KEYWORD_EXCLUDE[key], regex=True)
        out[hit] = key
    return out
