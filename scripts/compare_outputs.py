"""Compare two cjgis output folders: tables, layers, workbooks and figures, file by file.

Used to show that a refactor leaves results unchanged::

    python scripts/compare_outputs.py BEFORE/data/processed/sample AFTER/data/processed/sample

CSV tables and GeoPackage attributes must be equal (floats to 1e-9 relative), geometries equal
within ``--tolerance-m`` (default 1e-6 m), workbook cells equal, PNG figures equal pixel by
pixel. Exit status 1 lists every difference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely


def _frames_differ(a: pd.DataFrame, b: pd.DataFrame) -> str | None:
    try:
        pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-9, atol=1e-9)
    except AssertionError as exc:
        return str(exc).splitlines()[0]
    return None


def _compare_gpkg(a: Path, b: Path, tolerance_m: float) -> list[str]:
    problems = []
    layers_a = [name for name, _ in pyogrio.list_layers(a)]
    layers_b = [name for name, _ in pyogrio.list_layers(b)]
    if layers_a != layers_b:
        return [f"layers {layers_a} != {layers_b}"]
    for layer in layers_a:
        fa = pyogrio.read_dataframe(a, layer=layer)
        fb = pyogrio.read_dataframe(b, layer=layer)
        diff = _frames_differ(
            pd.DataFrame(fa.drop(columns="geometry")), pd.DataFrame(fb.drop(columns="geometry"))
        )
        if diff:
            problems.append(f"{layer}: {diff}")
        ga, gb = fa.geometry.to_numpy(), fb.geometry.to_numpy()
        if len(ga) == len(gb) and len(ga):
            far = ~shapely.equals_exact(ga, gb, tolerance=tolerance_m)
            if far.any():
                problems.append(f"{layer}: {int(far.sum())} geometries differ by > {tolerance_m} m")
    return problems


def _compare_xlsx(a: Path, b: Path) -> list[str]:
    sheets_a = pd.read_excel(a, sheet_name=None, header=None)
    sheets_b = pd.read_excel(b, sheet_name=None, header=None)
    if list(sheets_a) != list(sheets_b):
        return [f"sheets {list(sheets_a)} != {list(sheets_b)}"]
    return [f"{s}: {d}" for s in sheets_a if (d := _frames_differ(sheets_a[s], sheets_b[s]))]


def _compare_png(a: Path, b: Path) -> list[str]:
    from PIL import Image

    pa, pb = np.asarray(Image.open(a)), np.asarray(Image.open(b))
    if pa.shape != pb.shape:
        return [f"size {pa.shape} != {pb.shape}"]
    changed = int((pa != pb).any(axis=-1).sum())
    return [f"{changed} pixels differ"] if changed else []


def compare(before: Path, after: Path, *, tolerance_m: float = 1e-6) -> dict[str, list[str]]:
    """Return the differences per file name (an empty dict when the folders agree)."""
    names_a = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    names_b = {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    report: dict[str, list[str]] = {}
    for name in sorted(names_a ^ names_b):
        report[str(name)] = ["only in " + ("before" if name in names_a else "after")]
    for name in sorted(names_a & names_b):
        a, b = before / name, after / name
        suffix = name.suffix.lower()
        if suffix == ".csv":
            diff = _frames_differ(
                pd.read_csv(a, encoding="utf-8-sig"), pd.read_csv(b, encoding="utf-8-sig")
            )
            problems = [diff] if diff else []
        elif suffix == ".gpkg":
            problems = _compare_gpkg(a, b, tolerance_m)
        elif suffix == ".xlsx":
            problems = _compare_xlsx(a, b)
        elif suffix == ".png":
            problems = _compare_png(a, b)
        else:
            problems = [] if a.read_bytes() == b.read_bytes() else ["bytes differ"]
        if problems:
            report[str(name)] = problems
    return report


def main() -> int:
    """Compare the two folders named on the command line; print what differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--tolerance-m", type=float, default=1e-6)
    args = parser.parse_args()
    report = compare(args.before, args.after, tolerance_m=args.tolerance_m)
    files = sum(1 for p in args.before.rglob("*") if p.is_file())
    for name, problems in report.items():
        for problem in problems:
            print(f"{name}: {problem}")
    print(f"{files} files compared, {len(report)} differ")
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
