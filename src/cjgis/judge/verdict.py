"""The one verdict per community × category, computed once, and how a share is shown beside it.

:func:`assess` reads the coverage table's numbers (covered share against the target, and
accessible capacity against the requirement) and adds the verdict columns; every output
(terminal, map, ``coverage.csv``, ``communities.gpkg``, the scorecard, figures, ``cjgis site``)
reads them and none decides again. :func:`community_verdicts` counts the categories met per
community from the same columns.

Status words follow the rule's basis (DOMAIN: say 达标 only against a standard):

======================  =============  ==================
status                  basis          status_zh
======================  =============  ==================
``met``                 standard       达标
``not_met``             standard       不达标
``met``                 planner rule   满足建议值
``not_met``             planner rule   未满足建议值
``no_standard``         none           无标准
``no_residents``        any            无居民
``not_assessed``        any            未评价 (``[standards] exclude``)
======================  =============  ==================

A category with no facility in the input is assessed all the same (nobody within reach); its
reason starts with 无设施数据 (:data:`NO_FACILITY_DATA`).

Shares are kept to 0.1 % and rounded toward the verdict, so a share shown beside a status
never contradicts it (89.96 % against 90 % is 89.9 %, never 90.0 %); :func:`share_text`
writes one decimal only where whole percents would contradict the status (89.7 %, not 90 %).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cjgis.inputs.demand import demand_column

MET, NOT_MET, NO_STANDARD, NO_RESIDENTS = "met", "not_met", "no_standard", "no_residents"
#: A district-level rule whose capacities or group counts are missing: not checked.
NOT_CHECKED = "not_checked"
#: A category the study leaves out on purpose (``[standards] exclude``): no verdict.
NOT_ASSESSED = "not_assessed"
#: The reason's first words where the input has no facility of the category at all.
NO_FACILITY_DATA = "无设施数据 (no facility of this category in the input)"
#: Basis of a rule, in Chinese and English (rules.BASES are the keys).
BASIS_ZH = {"standard": "国家标准/地方规定", "planner rule": "规划建议值", "none": "无标准"}
#: Status words by (status, basis); no_standard and no_residents read the same for any basis.
STATUS_ZH = {
    (MET, "standard"): "达标",
    (NOT_MET, "standard"): "不达标",
    (MET, "planner rule"): "满足建议值",
    (NOT_MET, "planner rule"): "未满足建议值",
}
STATUS_EN = {
    (MET, "standard"): "meets the standard",
    (NOT_MET, "standard"): "below the standard",
    (MET, "planner rule"): "meets the planner rule",
    (NOT_MET, "planner rule"): "below the planner rule",
}
OTHER_ZH = {
    NO_STANDARD: "无标准",
    NO_RESIDENTS: "无居民",
    NOT_CHECKED: "未核 (缺数据)",
    NOT_ASSESSED: "未评价",
}
OTHER_EN = {
    NO_STANDARD: "no standard",
    NO_RESIDENTS: "no residents",
    NOT_CHECKED: "not checked (no data)",
    NOT_ASSESSED: "not assessed",
}
#: Shares are stored to this many decimals (0.1 %), rounded toward the verdict.
SHARE_DECIMALS = 3
#: A share this close below the target still meets it (float sums of weights).
SHARE_TOLERANCE = 1e-9
#: Capacity short by at most this many units is not short (float sums).
CAPACITY_TOLERANCE = 1e-9


def status_words(status: str, basis: str) -> tuple[str, str]:
    """Return the Chinese and English words of a status under a rule's basis."""
    if status in OTHER_ZH:
        return OTHER_ZH[status], OTHER_EN[status]
    return STATUS_ZH[(status, basis)], STATUS_EN[(status, basis)]


def toward_verdict(
    share: np.ndarray, target: np.ndarray, met: np.ndarray, *, decimals: int
) -> np.ndarray:
    """Round shares to ``decimals`` places, toward the verdict where plain rounding misleads.

    Where plain rounding would put a share on the wrong side of ``target`` (given ``met``),
    it is rounded down (not met) or up (met) instead.

    Examples
    --------
    >>> toward_verdict(np.array([0.89996, 0.9343]), np.array([0.9, 0.9]),
    ...                np.array([False, True]), decimals=3)
    array([0.899, 0.934])
    """
    share = np.asarray(share, dtype=float)
    scale = 10.0**decimals
    rounded = np.round(share, decimals)
    wrong = (rounded >= target - SHARE_TOLERANCE) != met
    with np.errstate(invalid="ignore"):
        toward = np.where(met, np.ceil(share * scale), np.floor(share * scale)) / scale
    return np.where(wrong & ~np.isnan(share), toward, rounded)


def share_text(share: float, target: float, coverage_met: bool) -> str:
    """Write a share as a percentage that agrees with whether it meets ``target``.

    Whole percents, or one decimal where whole percents would say otherwise (89.7 % below a
    90 % target is "89.7%", never "90%"). The share itself is already rounded toward the
    verdict (:func:`assess`), so the decimal it shows is the stored one.

    Examples
    --------
    >>> share_text(0.897, 0.9, False), share_text(0.93, 0.9, True), share_text(0.5, 0.9, False)
    ('89.7%', '93%', '50%')
    """
    if share is None or pd.isna(share):
        return "—"
    text = f"{share:.0%}"
    if (round(share * 100) / 100 >= target - SHARE_TOLERANCE) != bool(coverage_met):
        text = f"{share:.1%}"
    return text


def _capacity_columns(cov: pd.DataFrame) -> pd.DataFrame:
    """Whole units required (rounded up), shortfall and whether capacity is met."""
    missing = pd.Series(np.nan, index=cov.index)
    required = pd.to_numeric(cov.get("capacity_required", missing), errors="coerce")
    accessible = pd.to_numeric(cov.get("capacity_accessible", missing), errors="coerce")
    shortfall = np.maximum(required - accessible, 0.0)
    short = shortfall > CAPACITY_TOLERANCE
    checked = required.notna() & accessible.notna()
    return pd.DataFrame(
        {
            "capacity_required": np.ceil(required - CAPACITY_TOLERANCE),
            "capacity_shortfall": np.where(
                checked, np.where(short, np.ceil(shortfall - CAPACITY_TOLERANCE), 0.0), np.nan
            ),
        },
        index=cov.index,
    ).assign(capacity_met=pd.Series(~short, index=cov.index, dtype="boolean").where(checked))


def assess(coverage: pd.DataFrame) -> pd.DataFrame:
    """Add the verdict to a coverage table (a new table; the input is not modified).

    Parameters
    ----------
    coverage : pandas.DataFrame
        :func:`cjgis.judge.coverage.coverage_table` rows: ``covered_share``, ``target_share``,
        ``residents``, ``basis`` and, where a capacity rule applies, ``capacity_required``,
        ``capacity_accessible`` and ``capacity_unit_zh``.

    Returns
    -------
    pandas.DataFrame
        The table with ``coverage_met`` (bool), ``capacity_met`` (nullable boolean: <NA>
        without a capacity check),
        ``status``, ``status_zh``, ``status_en`` and ``reason``; ``covered_share`` kept to
        0.1 % toward the verdict, ``capacity_required`` and ``capacity_shortfall`` in whole
        units (rounded up).
    """
    cov = coverage.copy()
    share = cov["covered_share"].to_numpy(dtype=float)
    target = cov["target_share"].to_numpy(dtype=float)
    coverage_met = share >= target - SHARE_TOLERANCE
    cov["coverage_met"] = coverage_met
    if "capacity_required" in cov:
        for name, values in _capacity_columns(cov).items():
            cov[name] = values
    else:
        cov["capacity_met"] = pd.Series(pd.NA, index=cov.index, dtype="boolean")
    capacity_short = (~cov["capacity_met"]).fillna(False).to_numpy(dtype=bool)
    met = coverage_met & ~capacity_short
    status = np.where(met, MET, NOT_MET).astype(object)
    status[(cov["basis"] == "none").to_numpy()] = NO_STANDARD
    status[~(cov["residents"].to_numpy(dtype=float) > 0)] = NO_RESIDENTS
    cov["status"] = status
    cov["covered_share"] = toward_verdict(share, target, coverage_met, decimals=SHARE_DECIMALS)
    words = [status_words(s, b) for s, b in zip(status, _word_basis(cov), strict=True)]
    cov["status_zh"] = [w[0] for w in words]
    cov["status_en"] = [w[1] for w in words]
    fields = cov[[c for c in _REASON_FIELDS if c in cov]]  # to_dict of these only: 3x faster
    cov["reason"] = [_reason(row) for row in fields.to_dict("records")]
    return cov


def _word_basis(cov: pd.DataFrame) -> list[str]:
    """Return the basis that names each status (the capacity's where capacity decides).

    Coverage short: the rule's basis. Coverage met but capacity short: the capacity rule's.
    Both met: 达标 only if both numbers come from a standard, else 满足建议值.
    """
    checked = cov["capacity_met"].notna().to_numpy()
    cap_basis = cov.get("capacity_basis", pd.Series("standard", index=cov.index)).fillna("standard")
    out = []
    for basis, c_met, cap_met, chk, cb in zip(
        cov["basis"], cov["coverage_met"], cov["capacity_met"], checked, cap_basis, strict=True
    ):
        if basis == "none" or not chk or not c_met:
            out.append(basis)
        elif not cap_met or cb == "planner rule":
            out.append(cb)
        else:
            out.append(basis)
    return out


#: The columns :func:`_reason` reads.
_REASON_FIELDS = (
    "status",
    "covered_share",
    "target_share",
    "coverage_met",
    "capacity_note",
    "capacity_unit_zh",
    "capacity_unit",
    "capacity_met",
    "capacity_accessible",
    "capacity_required",
    "capacity_shortfall",
    "facilities_in_study",
)


def _reason(row: dict) -> str:
    """One line, Chinese then English, saying why a row has its status."""
    if row["status"] == NO_RESIDENTS:
        return "社区内无居民 (no residents)"
    if row.get("facilities_in_study") == 0:
        return f"{NO_FACILITY_DATA}; {_numbers_reason(row)}"
    return _numbers_reason(row)


def _numbers_reason(row: dict) -> str:
    """Say why from the shares and capacities (see :func:`_reason`)."""
    share = share_text(row["covered_share"], row["target_share"], row["coverage_met"])
    relation = "≥" if row["coverage_met"] else "<"
    coverage = f"覆盖率 {share} {relation} 目标 {row['target_share']:.0%}"
    note = row.get("capacity_note")
    if isinstance(note, str) and note:  # the group's counts are missing: say it in every case
        coverage = f"{coverage}; {note}"
    if row["status"] == NO_STANDARD:
        return f"无标准, 按研究默认值 (no standard; study defaults): {coverage}"
    if not row["coverage_met"]:
        return f"{coverage} (coverage below target)"
    unit = row.get("capacity_unit_zh") or row.get("capacity_unit") or ""
    if isinstance(unit, str) and unit and not (isinstance(note, str) and note):
        if pd.isna(row.get("capacity_met")):
            return f"{coverage}; 无容量数据, 容量未核 (capacity not given)"
        if not row["capacity_met"]:
            return (
                f"{coverage}; 可达容量 {row['capacity_accessible']:.1f} < 需 "
                f"{row['capacity_required']:.0f} {unit} (capacity short by "
                f"{row['capacity_shortfall']:.0f} {unit})"
            )
    return coverage


def community_verdicts(coverage: pd.DataFrame) -> pd.DataFrame:
    """Per community: categories met out of those with a rule, and the categories not met.

    Parameters
    ----------
    coverage : pandas.DataFrame
        The table :func:`assess` returns.

    Returns
    -------
    pandas.DataFrame
        ``community_id``, ``categories_met``, ``categories_required`` (rows with a rule and
        residents), ``categories_not_met`` (Chinese names joined with 、).
    """
    by = coverage.groupby("community_id", sort=False)
    ruled = coverage["status"].isin([MET, NOT_MET])
    ids = by.size().index

    def count(mask: pd.Series) -> pd.Series:
        return mask.groupby(coverage["community_id"], sort=False).sum().reindex(ids).astype(int)

    missing = coverage.loc[coverage["status"] == NOT_MET]
    names = missing.groupby("community_id", sort=False)["category_zh"].agg("、".join)
    return pd.DataFrame(
        {
            "community_id": ids,
            "categories_met": count(coverage["status"] == MET).to_numpy(),
            "categories_required": count(ruled).to_numpy(),
            "categories_not_met": names.reindex(ids, fill_value="").to_numpy(),
        }
    )


#: Columns of the district-level table, one row per rule (empty without such rules).
DISTRICT_COLUMNS = [
    "category",
    "category_zh",
    "facilities",
    "capacity_unit_zh",
    "capacity_total",
    "demand_basis",
    "group_total",
    "provision_target",
    "provision_per",
    "basis_zh",
    "rule_source",
    "capacity_required",
    "provision_rate",
    "status",
    "status_zh",
    "status_en",
    "reason",
]


def district_verdicts(
    residents: pd.DataFrame,
    facilities: pd.DataFrame,
    rules: list,
    *,
    demand_basis: dict[str, str],
) -> pd.DataFrame:
    """District-level rules (residential homes): capacity over the whole study area.

    Parameters
    ----------
    residents : pandas.DataFrame
        Analysed residences with their count columns.
    facilities : pandas.DataFrame
        Analysed facilities with ``category`` and ``capacity`` (where given).
    rules : list of CategoryRule
        The rules with ``scale == "district"`` of categories present in the facilities.
    demand_basis : dict
        How each demand group was counted (:func:`cjgis.inputs.demand.demand_columns`).

    Returns
    -------
    pandas.DataFrame
        One row per rule: capacity in the area, the group's total, the requirement in whole
        units, the rate per ``per`` of the group (千人指标), status and reason.
    """
    rows = []
    for rule in rules:
        cap = rule.capacity
        mine = facilities[facilities["category"] == rule.key]
        given = pd.to_numeric(
            mine.get("capacity", pd.Series(np.nan, index=mine.index)), errors="coerce"
        )
        of = demand_column(cap.of)
        row = {
            "category": rule.key,
            "category_zh": rule.name_zh,
            "facilities": len(mine),
            "capacity_unit_zh": cap.unit_zh,
            "capacity_total": float(given.sum()),
            "demand_basis": demand_basis.get(cap.of, ""),
            "group_total": float(residents[of].sum()) if of in residents else np.nan,
            "provision_target": cap.amount,
            "provision_per": f"{cap.per:g} {cap.of}",
            "basis_zh": BASIS_ZH[cap.basis],
            "rule_source": cap.source,
        }
        row["capacity_required"] = np.ceil(cap.required(row["group_total"]) - CAPACITY_TOLERANCE)
        missing = given.isna().any() or np.isnan(row["group_total"])
        if missing:
            status = NOT_CHECKED
            reason = "缺容量或人口数据, 未核 (facility capacity or the group's counts missing)"
        else:
            row["provision_rate"] = row["capacity_total"] / row["group_total"] * cap.per
            short = row["capacity_required"] - row["capacity_total"]
            status = NOT_MET if short > CAPACITY_TOLERANCE else MET
            reason = (
                f"全区 {row['capacity_total']:.0f} {cap.unit_zh}, "
                f"需 {row['capacity_required']:.0f} ({cap.amount:g}/{cap.per:g} {cap.of})"
            )
            if status == NOT_MET:
                reason += f"; 缺 {np.ceil(short):.0f} {cap.unit_zh} (short)"
        if len(mine) == 0:
            reason = f"{NO_FACILITY_DATA}; {reason}"
        row["status"] = status
        row["status_zh"], row["status_en"] = status_words(status, cap.basis)
        row["reason"] = reason
        rows.append(row)
    return pd.DataFrame(rows, columns=DISTRICT_COLUMNS)
