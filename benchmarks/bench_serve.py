"""``cjgis serve`` speed: one edit, from request to redrawn page, beside the in-process what-if.

    python benchmarks/bench_serve.py            # the district (real streets) and the 500k city
    python benchmarks/bench_serve.py --short    # the district only, smaller
    python benchmarks/bench_serve.py --skip-city  # the district at full size only

Each study (``benchmarks/district.py``, ``benchmarks/city.py``, at the study defaults) is
analysed once, served by the real application (uvicorn on 127.0.0.1, in a thread), and one
facility of the category with the most facilities is moved 300 m east, three times (median):

- **in process**: :func:`cjgis.what_if` of the move and its service areas (all of them, as
  ``answer.analysis`` draws them for a notebook);
- **HTTP**: ``POST /edits`` of the same move, to its JSON answer (the what-if of the session's
  edits, the verdict table and the map's GeoJSON);
- **page**: in Debian's Chromium (Playwright), a click on the map adds a facility, timed from
  the click to the page redrawn with the answer (verdict table, colours, facilities, changed
  lines), and to the category's service area drawn too (fetched right after, ``GET /area``);
  skipped where no Chromium is installed.

Ratios, not seconds, are compared (a small noisy machine): HTTP over in process is the cost of
serving; ``/target`` is against the issue's targets (0.3 s district, 2 s city).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
TARGETS_S = {"district": 0.3, "city": 2.0}


def _serve(app):
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{port}"


def _page_s(url: str, n: int = 3) -> tuple[float, float] | None:
    """Median seconds from a click on the map (a facility added) to the page redrawn.

    Two times: to the verdict table and colours redrawn, and to the service area drawn too.
    """
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return None
    from playwright.sync_api import sync_playwright

    times, area_times = [], []
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=browser, args=["--no-sandbox", "--disable-gpu", "--disable-quic"]
        )
        page = chromium.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url + "/")
        page.wait_for_selector("body[data-edits='0']", timeout=600_000)
        box = page.locator("#map").bounding_box()
        for k in range(n + 1):  # the first click warms the page and the server up: untimed
            started = time.perf_counter()
            page.mouse.click(
                box["x"] + box["width"] * (0.35 + 0.1 * k), box["y"] + box["height"] / 2
            )
            page.wait_for_selector(f"body[data-edits='{k + 1}']", timeout=600_000)
            redrawn = time.perf_counter() - started
            page.wait_for_selector(f"body[data-area^='{k + 1}:']", timeout=600_000)
            if k:
                times.append(redrawn)
                area_times.append(time.perf_counter() - started)
        chromium.close()
    return statistics.median(times), statistics.median(area_times)


def _case(name: str, study_path: Path) -> dict[str, float]:
    import geopandas as gpd
    import httpx

    from cjgis.plan.whatif import what_if
    from cjgis.run.runner import analyze_study
    from cjgis.run.study import load_study
    from cjgis.serve.app import make_app

    study = load_study(study_path)
    analysis = analyze_study(study, verbose=False)
    fac = analysis.facilities
    category = fac["category"].value_counts().index[0]
    server, url = _serve(make_app(analysis, output_dir=study.output_dir, title=name))
    inproc_s, http_s = [], []
    with httpx.Client(base_url=url, timeout=600) as client:
        sid = client.post("/sessions", json={"category": category}).json()["session"]
        for k in range(3):
            row = fac[fac["category"] == category].iloc[k]
            point = gpd.GeoSeries([row.geometry], crs=analysis.crs).translate(300.0, 0.0)
            lon, lat = point.to_crs("EPSG:4326").iloc[0].coords[0]
            started = time.perf_counter()
            _ = what_if(analysis, move={row.facility_id: (lon, lat)}).analysis
            inproc_s.append(time.perf_counter() - started)
            if k:  # one move at a time, as in process
                client.post("/undo", json={"session": sid})
            edit = {"type": "move", "facility_id": str(row.facility_id), "lon": lon, "lat": lat}
            started = time.perf_counter()
            answer = client.post("/edits", json={"session": sid, "edit": edit})
            http_s.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
            size_kb = len(answer.content) / 1024
    page_s, area_s = _page_s(url) or (None, None)
    server.should_exit = True
    out = {
        "in_process": statistics.median(inproc_s),
        "http": statistics.median(http_s),
        "page": page_s,
        "page_area": area_s,
    }
    page_text = f"{page_s:>8.2f} {area_s:>8.2f}" if page_s is not None else f"{'-':>8} {'-':>8}"
    print(
        f"{name:<9} {analysis.network.n_nodes:>9,} {len(fac):>6,} {category:<13} "
        f"{out['in_process']:>8.2f} {out['http']:>8.2f} {page_text} {size_kb:>8.0f} "
        f"{out['http'] / out['in_process']:>9.2f} "
        f"{(page_s or out['http']) / TARGETS_S[name]:>7.2f}"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    from city import city_study
    from district import district_study

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--skip-city", action="store_true", help="the district at full size only")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "processed")
    args = parser.parse_args(argv)
    district = district_study(args.data, short=args.short)
    print(
        f"{'study':<9} {'nodes':>9} {'fac.':>6} {'category':<13} {'in-proc':>8} {'http s':>8} "
        f"{'page s':>8} {'+area s':>8} {'JSON kB':>8} {'http/in':>9} {'/target':>7}"
    )
    ratios = {}
    got = _case("district", district)
    ratios["district_http_over_in_process"] = got["http"] / got["in_process"]
    ratios["district_page_over_target"] = (got["page"] or got["http"]) / TARGETS_S["district"]
    if not (args.short or args.skip_city):
        got = _case("city", city_study(args.data))
        ratios["city_http_over_in_process"] = got["http"] / got["in_process"]
        ratios["city_page_over_target"] = (got["page"] or got["http"]) / TARGETS_S["city"]
    print("\nratios: " + ", ".join(f"{k} = {v:.2f}" for k, v in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
