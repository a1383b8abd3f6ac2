"""The community scorecard (缺口清单) a district bureau hands in.

Per community and category: the rule and its basis, residents and elderly, covered share,
walks, facilities and capacity (inside, reachable by 2SFCA, required, shortfall), a status
(达标 met / 不达标 not met / 无标准 no standard) and a one-line reason. Written as
``scorecard.xlsx`` (Chinese headers over English ones, one sheet per view), ``scorecard.csv``
(the same rows and numbers) and ``scorecard.gpkg`` (communities with scores, blind spots).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import xlsxwriter

from cjgis._atomic import atomic_path, write_csv
from cjgis.inputs.categories import category_info
from cjgis.judge.analysis import Analysis
from cjgis.judge.coverage import IN_PLACE
from cjgis.judge.verdict import MET, NO_RESIDENTS, NO_STANDARD, NOT_MET, share_text
from cjgis.outputs.report import community_layer, write_gpkg

#: Scorecard columns: key (CSV and English header) and Chinese header.
COLUMNS = {
    "community_id": "社区编号",
    "community_name": "社区名称",
    "resident_group": "居民类别",
    "category": "类别代码",
    "category_zh": "设施类别",
    "basis_zh": "标准依据",
    "basis": "依据(英文)",
    "rule_source": "依据出处",
    "threshold_m": "步行距离(米)",
    "threshold_min": "步行时间(分钟)",
    "walk_speed_m_s": "步速(米/秒)",
    "demand_basis": "覆盖率口径",
    "residents": "常住人口(人)",
    "elderly": "60岁及以上老年人口(人)",
    "households": "户数(户)",
    "covered_share": "覆盖率",
    "target_share": "目标覆盖率",
    "share_300m": "300米内覆盖率",
    "share_500m": "500米内覆盖率",
    "share_1000m": "1000米内覆盖率",
    "median_walk_min": "步行时间中位数(分钟)",
    "max_walk_min": "最远步行(分钟)",
    "facilities_inside": "社区内设施(个)",
    "facilities_in_study": "研究区内设施(个)",
    "nearest_facility": "主要服务设施",
    "capacity_unit_zh": "容量单位",
    "capacity_inside": "社区内容量",
    "capacity_accessible": "可达容量(2SFCA)",
    "capacity_required": "需求容量(取整)",
    "capacity_shortfall": "配置缺口(取整)",
    "provision_rate": "千人指标(可达)",
    "provision_target": "千人指标(要求)",
    "provision_per": "千人指标口径",
    "access_gini": "可达性基尼系数",
    "status_zh": "状态",
    "status_en": "状态(英文)",
    "reason": "原因",
}
#: Columns of the by-category sheet printed on paper (first in the sheet, then the others): on
#: A3 one page wide they print at a readable size (all 40-odd columns printed at 2.9 pt).
PRINTED = (
    "community_id",
    "community_name",
    "resident_group",
    "category_zh",
    "threshold_min",
    "covered_share",
    "target_share",
    "capacity_shortfall",
    "status_zh",
    "reason",
)
#: Columns whose values are English (keys and words): in their own sheet of the workbook, so
#: that the Chinese sheets hold Chinese values only (the CSV keeps every column).
_ENGLISH_VALUES = ("basis", "status_en")
_ROUND = {
    "threshold_min": 1,
    "threshold_m": 0,
    "median_walk_min": 1,
    "max_walk_min": 1,
    "capacity_inside": 1,
    "capacity_accessible": 1,
    "provision_rate": 1,
    "access_gini": 3,
    "residents": 0,
    "elderly": 0,
    "households": 0,
}


def scorecard_table(analysis: Analysis) -> pd.DataFrame:
    """One row per community x category: the verdict with its reason (columns :data:`COLUMNS`).

    The status, reason and shares are the analysis's own (:mod:`cjgis.judge.verdict`), not
    decided again; numbers are rounded for reading (minutes and capacity to 1 decimal) so
    that the XLSX and CSV show the same values.
    """
    card = analysis.coverage_rows().replace([np.inf, -np.inf], np.nan).copy()
    for key in COLUMNS:
        if key not in card:
            card[key] = np.nan
    for key, digits in _ROUND.items():
        card[key] = pd.to_numeric(card[key], errors="coerce").round(digits)
    return card[list(COLUMNS)]


def community_scores(analysis: Analysis) -> pd.DataFrame:
    """Per community: residents, elderly, and the analysis's categories met and not met.

    The columns of :func:`cjgis.outputs.report.community_layer` the summary sheet shows.
    """
    layer = community_layer(analysis)
    return pd.DataFrame(layer[[c for c in _SUMMARY_ZH if c in layer]])


_SUMMARY_ZH = {
    "community_id": "社区编号",
    "community_name": "社区名称",
    "residents": "居民(人)",
    "elderly": "老年人(人)",
    "categories_met": "满足类别数",
    "categories_required": "有要求类别数",
    "categories_not_met": "未满足类别",
}
_SPOTS_ZH = {
    "community_id": "社区编号",
    "community_name": "社区名称",
    "resident_id": "居住点编号",
    "population": "居民(人)",
    "elderly": "老年人(人)",
    "n_categories": "缺项数",
    "categories_zh": "步行时限外的设施类别",
}
_DISTRICT_ZH = {
    "category": "类别代码",
    "category_zh": "设施类别",
    "facilities": "设施(个)",
    "capacity_unit_zh": "容量单位",
    "capacity_total": "全区容量",
    "demand_basis": "口径",
    "group_total": "人口/户",
    "capacity_required": "需求容量(取整)",
    "provision_rate": "千人指标",
    "provision_target": "千人指标(要求)",
    "provision_per": "千人指标口径",
    "basis_zh": "标准依据",
    "rule_source": "依据出处",
    "status_zh": "状态",
    "status_en": "状态(英文)",
    "reason": "原因",
}
_REJECTED_ZH = {
    "layer": "图层",
    "file": "文件",
    "row": "行号",
    "id": "编号",
    "name": "名称",
    "reason": "原因",
    "fix": "修改建议",
}
_PERCENT = {"covered_share", "target_share", "share_300m", "share_500m", "share_1000m"}


def _width(value: object) -> int:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


#: Count columns shown as whole numbers (people, households, units required).
_INTEGER = {
    "residents",
    "elderly",
    "households",
    "population",
    "facilities_inside",
    "facilities_in_study",
    "facilities",
    "capacity_required",
    "capacity_shortfall",
    "capacity_total",
    "group_total",
    "categories_met",
    "categories_required",
    "row",
}
#: Status words and their cell colours (green met, red not met, grey no standard/data).
#: Chinese headers of the 评价依据 sheet (:meth:`cjgis.judge.analysis.Analysis.rules_table`).
_RULES_ZH = {
    "category": "类别代码",
    "category_zh": "类别",
    "scale": "评价尺度",
    "threshold_m": "服务半径(米)",
    "threshold_min": "步行时间(分钟)",
    "walk_speed_m_s": "步速(米/秒)",
    "demand": "服务对象",
    "target_share": "目标覆盖率",
    "basis": "依据类型",
    "source": "依据条文",
    "checked": "核实情况",
    "quote": "条文原文",
    "facilities": "现状设施(个)",
    "assessment": "评价情况",
    "standards": "评价标准",
}

_STATUS_FILL = {
    "达标": "#C6EFCE",
    "满足建议值": "#E2EFDA",
    "不达标": "#FFC7CE",
    "未满足建议值": "#FCE4D6",
    "无标准": "#EDEDED",
    "无居民": "#EDEDED",
    "未核 (缺数据)": "#EDEDED",
    "未评价": "#D9D9D9",
}
#: The key columns a sheet keeps frozen on screen and repeated on every printed page.
_KEYS = ("community_id", "community_name")


def _sheet(
    book,
    title: str,
    frame: pd.DataFrame,
    zh: dict[str, str],
    formats: dict,
    *,
    printed: int | None = None,
) -> None:
    """Add a sheet: Chinese headers in row 1, English in row 2, ready to print and filter.

    ``printed``: only the first so many columns are printed (the print area), so a wide
    sheet prints one page wide at a size that can be read; the others stay on screen.

    Frozen header rows and id/name columns, an autofilter, status cells coloured, counts as
    whole numbers and shares as percentages; printed on A3 landscape, one page wide, the header
    rows repeated on every page and the sheet's name in the page header. Rows are streamed
    (XlsxWriter's constant-memory mode), so a city's thousands of rows take a second or two.
    """
    ws = book.add_worksheet(title)
    keys = sum(1 for c in frame.columns[: len(_KEYS)] if c in _KEYS)
    ws.freeze_panes(2, keys)
    ws.set_landscape()
    ws.set_paper(8)  # A3
    ws.fit_to_pages(1, 0)  # one page wide, as many pages tall as it takes
    ws.repeat_rows(0, 1)
    ws.set_header(f"&L&A&R{title.split()[0]}")  # the sheet's name on every printed page
    ws.set_footer("&C&P / &N")
    ws.hide_gridlines(0)
    for i, column in enumerate(frame.columns):
        widths = [_width(zh.get(column, column)), _width(column)]
        widths += [_width(v) for v in frame[column].head(500)]
        ws.set_column(i, i, min(max(widths) + 2, 48), _column_format(column, formats))
    ws.write_row(0, 0, [zh.get(c, c) for c in frame.columns], formats["header"])
    ws.write_row(1, 0, list(frame.columns), formats["header_en"])
    # typed writes, no guessing (URLs, formulas): one writer per numeric or boolean column,
    # the type of each value for the others
    writers = [
        _column_writer(ws, frame[column], _column_format(column, formats))
        for column in frame.columns
    ]
    columns = [_cells(frame[column]) for column in frame.columns]
    for r, record in enumerate(zip(*columns, strict=True), start=2):
        for c, value in enumerate(record):
            if value is not None:
                writers[c](r, c, value)
    last_row, last_col = max(len(frame) + 1, 2), max(len(frame.columns) - 1, 0)
    ws.autofilter(1, 0, last_row, last_col)
    if printed is not None:
        ws.print_area(0, 0, last_row, min(printed, len(frame.columns)) - 1)
    for column in ("status_zh",):
        if column in frame.columns:
            c = list(frame.columns).index(column)
            for word, fill in _STATUS_FILL.items():
                ws.conditional_format(
                    2,
                    c,
                    last_row,
                    c,
                    {
                        "type": "cell",
                        "criteria": "==",
                        "value": f'"{word}"',
                        "format": formats[fill],
                    },
                )


def _column_format(column: str, formats: dict):
    if column in _PERCENT:
        return formats["percent"]
    if column in _INTEGER:
        return formats["integer"]
    return None


def _cells(values: pd.Series) -> list:
    """Return a column's values for the workbook: Python numbers and texts, None for blanks."""
    if values.dtype.kind in "fiub":
        array = values.to_numpy()
        cells = array.tolist()
        if array.dtype.kind == "f":
            for i in np.flatnonzero(~np.isfinite(array)).tolist():
                cells[i] = None
        return cells
    return [_cell(v) for v in values.tolist()]


def _column_writer(ws, values: pd.Series, number_format):
    """Return the worksheet method that writes a value of this column at row r, column c."""
    kind = values.dtype.kind
    if kind == "b":
        return ws.write_boolean
    if kind in "fiu":
        return lambda r, c, value: ws.write_number(r, c, value, number_format)

    def typed(r, c, value):
        if isinstance(value, str):
            ws.write_string(r, c, value)
        elif isinstance(value, bool):
            ws.write_boolean(r, c, value)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value, number_format)
        else:
            ws.write_string(r, c, str(value))

    return typed


def _cell(value: object) -> object:
    """Plain Python values for the workbook: NaN, inf and NA become blanks."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and not np.isfinite(value)):
        return None
    return value


#: Blind-spot rows in the workbook (the largest) and in scorecard.gpkg at most; a city's
#: full list (hundreds of thousands) is in blind_spots.gpkg.
MAX_SHEET_ROWS = 5_000
#: The workbook's sheets, in order, and what each holds (the documentation lists them; a test
#: reads a written workbook against them).
SHEETS = {
    "汇总 summary": "one row per community: residents, elderly, categories met of those "
    "required, the categories not met",
    "评价依据 standards": "each category's rule, its basis (标准 or 规划建议值), source and "
    "whether it was assessed",
    "分类别 by category": "one row per community x category: the columns below, the verdict "
    "coloured; the first columns print on A3",
    "区级 district-level": "rules over the whole study area (residential homes' beds); only "
    "where the profile has them",
    "服务盲区 blind spots": f"residences outside a category's reach, the largest first (at most "
    f"{MAX_SHEET_ROWS:,} rows; all in blind_spots.gpkg)",
    "未纳入 rejected": "input rows left out, each with its file, row, reason and fix",
    "English values": "the verdict and its basis in English",
}


def _blind_spot_table(analysis: Analysis) -> pd.DataFrame:
    """Residences left out, one row each with the categories they are out of (largest first)."""
    spots = pd.DataFrame(analysis.blind_spots.drop(columns="geometry"))
    if len(spots) > MAX_SHEET_ROWS:  # a city: the largest, the rest in blind_spots.gpkg
        spots = spots.nlargest(MAX_SHEET_ROWS, "population")
    names = analysis.communities.set_index("community_id")["community_name"]
    spots["community_name"] = spots["community_id"].map(names)
    return spots[[c for c in _SPOTS_ZH if c in spots]]


def write_scorecard(
    analysis: Analysis, output_dir: str | Path, *, card: pd.DataFrame | None = None
) -> dict[str, Path]:
    """Write ``scorecard.xlsx``, ``scorecard.csv`` and ``scorecard.gpkg`` into ``output_dir``.

    ``card`` is :func:`scorecard` of ``analysis``, if the caller has it already.

    Returns
    -------
    dict of str to pathlib.Path
        ``scorecard_xlsx``, ``scorecard_csv``, ``scorecard_gpkg``.
    """
    out = Path(output_dir)
    card = scorecard_table(analysis) if card is None else card
    summary = community_scores(analysis)
    paths = {
        "scorecard_xlsx": out / "scorecard.xlsx",
        "scorecard_csv": out / "scorecard.csv",
        "scorecard_gpkg": out / "scorecard.gpkg",
    }
    spots = _blind_spot_table(analysis)
    if len(spots) < len(analysis.blind_spots):
        title = f"服务盲区 blind spots 前{len(spots)} top"  # the largest; all in blind_spots.gpkg
    else:
        title = "服务盲区 blind spots"
    with atomic_path(paths["scorecard_xlsx"]) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True})
        formats = {
            "header": book.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True}),
            "header_en": book.add_format({"italic": True, "font_color": "#555555"}),
            "percent": book.add_format({"num_format": "0.0%"}),
            "integer": book.add_format({"num_format": "#,##0"}),
            **{fill: book.add_format({"bg_color": fill}) for fill in _STATUS_FILL.values()},
        }
        _sheet(book, "汇总 summary", summary, _SUMMARY_ZH, formats)
        _sheet(book, "评价依据 standards", analysis.rules_table(), _RULES_ZH, formats)
        chinese = [c for c in card.columns if c not in _ENGLISH_VALUES]
        first = [c for c in PRINTED if c in chinese]  # what the meeting reads, printed
        by_category = card[first + [c for c in chinese if c not in first]]
        _sheet(book, "分类别 by category", by_category, COLUMNS, formats, printed=len(first))
        if len(analysis.district):
            _sheet(book, "区级 district-level", analysis.district, _DISTRICT_ZH, formats)
        _sheet(book, title, spots, _SPOTS_ZH, formats)
        _sheet(book, "未纳入 rejected", analysis.rejected, _REJECTED_ZH, formats)
        english = [c for c in ("community_id", "community_name", "category") if c in card]
        _sheet(book, "English values", card[english + list(_ENGLISH_VALUES)], COLUMNS, formats)
        book.close()
    write_csv(card, paths["scorecard_csv"])
    layers = {"communities": _community_layer(analysis, card)}
    if len(analysis.blind_spots) <= MAX_SHEET_ROWS:  # a city's are in blind_spots.gpkg only
        layers["blind_spots"] = analysis.blind_spots
    write_gpkg(layers, paths["scorecard_gpkg"])
    return paths


def _community_layer(analysis: Analysis, card: pd.DataFrame):
    """Boundaries with the summary and, per category, covered share and status."""
    card = card[card["resident_group"] == IN_PLACE]  # the community's own residents
    share = card.pivot(index="community_id", columns="category", values="covered_share")
    status = card.pivot(index="community_id", columns="category", values="status_zh")
    wide = pd.concat(
        [share.astype(float).add_prefix("share_"), status.add_prefix("status_")], axis=1
    )
    layer = community_layer(analysis)
    layer = layer[[*(c for c in _SUMMARY_ZH if c in layer), "geometry"]]
    return gpd.GeoDataFrame(
        layer.merge(wide.reset_index(), on="community_id"), geometry="geometry", crs=analysis.crs
    )


_TERMINAL = {MET: "ok", NOT_MET: "GAP", NO_STANDARD: "n/a", NO_RESIDENTS: "-"}
_TERMINAL_COLUMNS = ["community_name", "category", "covered_share", "target_share", "status"]


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def gap_table_text(coverage: pd.DataFrame, *, max_rows: int = 40) -> str:
    """Format the verdicts for a terminal: communities down, categories across.

    Parameters
    ----------
    coverage : pandas.DataFrame
        ``Analysis.coverage`` (its verdict columns).
    max_rows : int, optional
        More communities than this (a city): the ``max_rows`` lowest covered shares are
        shown, then a line counting the others (all are in the scorecard files).

    Returns
    -------
    str
        Lines such as ``沈家社区  93% CAP  12% GAP ...``: covered share and status (``ok``
        met, ``GAP`` coverage below target, ``CAP`` capacity short, ``n/a`` no standard),
        then a legend line. Shares never contradict the status (:func:`share_text`);
        Chinese names count two columns wide.
    """
    card = coverage
    categories = list(dict.fromkeys(card["category"]))
    names = list(dict.fromkeys(card["community_name"]))
    hidden = max(len(names) - max_rows, 0)
    if hidden:
        worst = card.groupby("community_name", sort=False)["covered_share"].mean()
        names = list(worst.sort_values(kind="stable").index[:max_rows])
    first = max(_width("社区 community"), *(_width(n) for n in names)) + 2
    heads = [category_info(c).name_zh for c in categories]
    widths = [max(_width(h), 8) + 2 for h in heads]
    lines = [
        _pad("社区 community", first)
        + "".join(_pad(h, w) for h, w in zip(heads, widths, strict=True)).rstrip()
    ]
    cells = card.set_index(["community_name", "category"])
    for name in names:
        row = _pad(name, first)
        for category, w in zip(categories, widths, strict=True):
            rec = cells.loc[(name, category)]
            share = share_text(rec["covered_share"], rec["target_share"], rec["coverage_met"])
            code = _TERMINAL[rec["status"]]
            if rec["status"] == NOT_MET and rec["coverage_met"]:
                code = "CAP"
            row += _pad(f"{share:>5} {code}", w)
        lines.append(row.rstrip())
    if hidden:
        lines.append(
            f"… {hidden:,} more communities (the {max_rows} lowest mean shares are shown; "
            "all are in scorecard.xlsx / 其余见 scorecard.xlsx)"
        )
    lines.append(
        "覆盖率 covered share · ok 达标/满足建议值 met · GAP 覆盖不足 coverage below target · "
        "CAP 容量不足 capacity short · n/a 无标准 no standard"
    )
    if "facilities_in_study" in card:
        none = card.loc[card["facilities_in_study"] == 0, "category"].drop_duplicates()
        if len(none):
            names = "、".join(category_info(c).name_zh for c in none)
            lines.append(f"无设施数据 no facility in the input (nobody within reach): {names}")
    return "\n".join(lines)
