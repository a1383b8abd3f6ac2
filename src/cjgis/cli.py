"""Command line: ``cjgis demo`` and ``cjgis analyze STUDY.toml``.

Failures end with one line ``cjgis: error: ... Fix: ...`` and exit status 2 (``--debug``
shows the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

from cjgis import __version__
from cjgis._atomic import check_writable_folder
from cjgis._errors import CjgisError

log = logging.getLogger("cjgis")


def _run(study_path: Path, *, quiet: bool, write_map: bool, tiles: dict | None = None) -> int:
    from cjgis.outputs.deliverables import write_all
    from cjgis.outputs.scorecard import gap_table_text
    from cjgis.run.runner import analyze_study_areas_later, check_inputs_exist
    from cjgis.run.study import load_study

    started = time.perf_counter()
    study = load_study(study_path)
    check_inputs_exist(study)
    check_writable_folder(study.output_dir, what="[output] dir")
    if write_map:
        check_writable_folder(study.map_path.parent, what="[output] map")
    if tiles is None:
        # the service areas go on being drawn while the tables are written (write_all)
        analysis, finish = analyze_study_areas_later(study, verbose=not quiet)
    else:
        from cjgis.reach.partition import Partition
        from cjgis.run.batch import dask_client

        with dask_client(
            scheduler=tiles["scheduler"], workers=tiles["workers"], tasks=tiles["tiles"]
        ) as client:
            partition = Partition(tiles=tiles["tiles"], halo_m=tiles["halo_m"], client=client)
            analysis, finish = analyze_study_areas_later(
                study, verbose=not quiet, partition=partition
            )
    log.info("inputs read, areas drawing: %.1f s", time.perf_counter() - started)
    for category in analysis.categories:
        rule = study.options.rule_for(category)
        log.info(
            "%s %s: %.0f m = %.1f min at %g m/s, target %.0f%% of %s [%s]",
            category,
            rule.name_zh,
            rule.threshold_m,
            rule.minutes,
            rule.walk_speed_m_s,
            rule.target_share * 100,
            rule.demand,
            rule.basis,
        )
    for text in dict.fromkeys(analysis.coverage["demand_basis"]):
        log.info("口径 demand counted as: %s", text)

    step = time.perf_counter()
    paths = write_all(
        analysis,
        study.output_dir,
        finish=finish,
        map_path=study.map_path if write_map else None,
        gdb_path=study.gdb_path,
        postgis=study.postgis,
        title=f"cjgis · {study.name}",
        **study.map_options,
    )
    log.info("areas drawn and outputs written: %.1f s", time.perf_counter() - step)
    print(gap_table_text(analysis.coverage))
    for row in analysis.district.itertuples():
        print(f"区级 district · {row.category_zh}: {row.status_zh} {row.status_en} · {row.reason}")
    print()
    for key, path in paths.items():
        print(f"  {key:<14} {path}")
    if len(analysis.rejected):
        print(f"  {len(analysis.rejected)} input rows rejected: see {paths['rejected']}")
    print(f"cjgis: {analysis.summary()} ({time.perf_counter() - started:.1f} s)")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from cjgis.inputs.sample import write_sample

    folder = Path(args.folder)
    study_path = folder / "data" / "raw" / "sample" / "study.toml"
    if study_path.is_file() and not args.regenerate:
        log.info("using the sample in %s (--regenerate to write it anew)", study_path.parent)
    else:
        log.info("writing the sample district (seed %d) to %s", args.seed, study_path.parent)
        write_sample(study_path.parent, seed=args.seed)
    # The sample's study file leaves outputs at their defaults, relative to the current
    # folder: run from ``folder`` so they land in folder/data/processed and folder/maps.
    here = Path.cwd()
    os.chdir(folder)
    try:
        return _run(study_path.resolve(), quiet=args.quiet, write_map=True)
    finally:
        os.chdir(here)


def _site(args: argparse.Namespace) -> int:
    from cjgis.inputs.demand import GROUP_EN
    from cjgis.judge.verdict import share_text
    from cjgis.outputs.deliverables import write_all
    from cjgis.outputs.scorecard import gap_table_text
    from cjgis.plan.scenario import (
        no_sites_reason,
        suggested_sites_table,
        with_chinese_coordinates,
        write_site_outputs,
    )
    from cjgis.run.runner import check_inputs_exist
    from cjgis.run.site import run_site_study
    from cjgis.run.study import load_study

    started = time.perf_counter()
    study = load_study(args.study)
    check_inputs_exist(study)
    check_writable_folder(study.output_dir / "site", what="[output] dir")
    check_writable_folder(study.map_path.parent, what="[output] map")
    site = run_site_study(study, verbose=not args.quiet)
    out = study.output_dir / "site"  # as-planned: apart from the as-is results of `analyze`

    paths = write_all(
        site.after,
        out,
        map_path=study.map_path.with_name(f"{study.map_path.stem}_site.html"),
        gdb_path=out / f"{study.name}_site.gdb" if study.gdb_path else None,
        postgis=replace(study.postgis, schema=f"{study.postgis.schema}_site")
        if study.postgis
        else None,
        title=f"cjgis · {study.name} · 规划后 as planned",
        proposed=suggested_sites_table(site),
        before=site.before,
        planned_roads=site.roads,
        **study.map_options,
    )
    chinese = study.facilities.crs  # the planner's own coordinates, e.g. Amap's GCJ-02
    paths.update(write_site_outputs(site, out, also_crs=chinese, water=study.map_options["water"]))
    changed = site.changes[site.changes["covered_residents_change"] != 0]
    print("规划前后 before -> after (covered share):")
    for row in changed.itertuples():
        before = share_text(row.covered_share_before, row.target_share, row.coverage_met_before)
        after = share_text(row.covered_share_after, row.target_share, row.coverage_met_after)
        print(f"  {row.community_name} {row.category_zh}: {before} -> {after} {row.status_change}")
    print()
    print(gap_table_text(site.after.coverage))
    print()
    reason = no_sites_reason(site)
    if reason is not None:
        print(f"  {reason}")
    for category, suggestion in site.suggestions.items():
        print(f"  {suggestion.message}")
        group = GROUP_EN.get(site.after.options.rule_for(category).demand, "")
        sites = with_chinese_coordinates(suggestion.sites, chinese)
        for row in sites.itertuples():
            where = f"{row.lon:.5f}, {row.lat:.5f} WGS84"
            if hasattr(row, "lon_gcj02"):
                where += f"; {row.lon_gcj02:.5f}, {row.lat_gcj02:.5f} GCJ-02 (Amap)"
            print(
                f"    #{row.rank} {row.place} ({where}): newly covers "
                f"{row.newly_covered_demand:,.0f} {group} ({row.newly_covered_residents:,.0f} "
                f"residents); {row.cumulative_share:.0%} covered with it ({row.solver})"
            )
    print()
    for key, path in paths.items():
        print(f"  {key:<20} {path}")
    print(f"cjgis: as planned: {site.after.summary()} ({time.perf_counter() - started:.1f} s)")
    return 0


def _standards(args: argparse.Namespace) -> int:
    from cjgis.judge.settings import AnalysisOptions
    from cjgis.judge.standards import describe_profile, list_profiles, load_profile

    names = [args.profile] if args.profile else list_profiles()
    for name in names:
        print(describe_profile(load_profile(name), AnalysisOptions()))
        print()
    return 0


def _analyze(args: argparse.Namespace) -> int:
    tiles = None
    if args.tiles is not None:
        _need_dask("analyze --tiles")
        tiles = {
            "tiles": args.tiles,
            "halo_m": args.halo_m,
            "scheduler": args.scheduler,
            "workers": args.workers,
        }
    elif args.scheduler or args.workers or args.halo_m is not None:
        raise CjgisError("--scheduler, --workers and --halo-m go with --tiles N. Fix: add it")
    return _run(Path(args.study), quiet=args.quiet, write_map=not args.no_map, tiles=tiles)


def _need_dask(command: str) -> None:
    try:
        import distributed  # noqa: F401 - the optional extra, checked before anything runs
    except ImportError as exc:
        raise CjgisError(
            f"cjgis {command} needs Dask ({exc}). Fix: pip install 'cjgis[dask]'"
        ) from None


def _sweep(args: argparse.Namespace) -> int:
    from cjgis.judge.verdict import MET
    from cjgis.run.sweep import run_sweep

    _need_dask("sweep")
    started = time.perf_counter()
    table = run_sweep(args.study, scheduler=args.scheduler, workers=args.workers)
    swept = [c for c in table if c.startswith("sweep_")]
    for scenario, rows in table.groupby("scenario", sort=False):
        values = ", ".join(f"{c.removeprefix('sweep_')} {rows[c].iloc[0]:g}" for c in swept)
        met = int((rows["status"] == MET).sum())
        print(f"  scenario {scenario} ({values}): {met} of {len(rows)} pairs met")
    print(
        f"cjgis: {table['scenario'].nunique()} scenarios; sweep.csv and sweep_chart.png "
        f"written ({time.perf_counter() - started:.1f} s)"
    )
    return 0


def _batch(args: argparse.Namespace) -> int:
    from cjgis.run.batch import run_batch

    _need_dask("batch")
    started = time.perf_counter()
    table = run_batch(
        args.studies,
        scheduler=args.scheduler,
        workers=args.workers,
        write_map=not args.no_map,
        summary_path=args.summary,
    )
    for row in table.itertuples():
        done = (
            f"{row.communities} communities, {row.pairs_not_met} of {row.pairs} pairs not met, "
            f"{row.rejected_rows} rows rejected"
            if row.status == "ok"
            else row.message
        )
        print(f"  {row.status:<6} {row.study} ({row.seconds:.1f} s): {done}")
    failed = int((table["status"] != "ok").sum())
    print(
        f"cjgis: {len(table)} studies, {len(table) - failed} done, {failed} failed; summary "
        f"{args.summary} ({time.perf_counter() - started:.1f} s)"
    )
    return 1 if failed else 0


def _parts(text: str, option: str, least: int) -> list[str]:
    parts = [p.strip() for p in text.replace("，", ",").split(",")]
    if len(parts) < least:
        raise CjgisError(
            f"{option} {text!r}: expected {least} comma-separated values. Fix: e.g. "
            + (
                '--add "elderly_care,120.271,30.302,新日照中心[,容量]"'
                if option == "--add"
                else '--move "F12,120.271,30.302"'
            )
        )
    return parts


def _number(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise CjgisError(f"{option}: {text!r} is not a number. Fix: lon,lat in degrees") from None


def _whatif(args: argparse.Namespace) -> int:
    from cjgis._atomic import write_csv
    from cjgis.plan.whatif import save_scenario, what_if
    from cjgis.run.runner import analyze_study, check_inputs_exist
    from cjgis.run.study import load_study
    from cjgis.streets.road_lines import read_road_lines

    started = time.perf_counter()
    add = []
    for text in args.add:
        parts = _parts(text, "--add", 3)
        row = {
            "category": parts[0],
            "lon": _number(parts[1], "--add"),
            "lat": _number(parts[2], "--add"),
        }
        if len(parts) > 3 and parts[3]:
            row["name"] = parts[3]
        if len(parts) > 4 and parts[4]:
            row["capacity"] = _number(parts[4], "--add")
        add.append(row)
    move = {}
    for text in args.move:
        fid, lon, lat = _parts(text, "--move", 3)[:3]
        move[fid] = (_number(lon, "--move"), _number(lat, "--move"))
    if not (add or move or args.remove or args.roads):
        raise CjgisError("cjgis whatif: nothing to change. Fix: --add, --move, --remove or --roads")
    study = load_study(args.study)
    check_inputs_exist(study)
    out = study.output_dir / "whatif"
    check_writable_folder(out, what="[output] dir")
    analysis = analyze_study(study, verbose=not args.quiet)
    step = time.perf_counter()
    roads = None
    if args.roads:
        roads = read_road_lines(args.roads)
    result = what_if(
        analysis,
        add=add,
        move=move,
        remove=args.remove,
        roads=roads,
        join_m=study.planned.join_m,
        components=study.network.components,
        crs=args.crs,
    )
    seconds = time.perf_counter() - step
    print("假如 what if (covered share, verdict):")
    for line in result.lines() or ["no community's share or verdict changes"]:
        print(f"  {line}")
    for warning in result.warnings:
        log.warning(warning)
    path = out / "whatif_diff.csv"
    write_csv(result.diff, path)
    print(f"\n  diff          {path}")
    if result.joins is not None:
        joins = out / "planned_road_joins.csv"
        write_csv(result.joins, joins)
        print(f"  road joins    {joins}")
    if args.save:
        saved = save_scenario(result, args.save, crs=args.crs)
        print(f"  scenario      {saved} ([planned] facilities, coordinates in {args.crs})")
    flips = int((result.diff["status_before"] != result.diff["status_after"]).sum())
    print(
        f"cjgis: {len(add)} added, {len(move)} moved, {len(args.remove)} removed"
        f"{f', {len(roads)} planned roads' if roads is not None else ''}; "
        f"{len(result.changed)} categories searched again; {len(result.diff)} community x "
        f"category pairs changed, {flips} verdicts; what-if {seconds:.2f} s "
        f"({time.perf_counter() - started:.1f} s with the analysis)"
    )
    return 0


def _bilingual(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give a parser Chinese and English section titles and ``-h`` help."""
    parser._positionals.title = "参数 arguments"
    parser._optionals.title = "选项 options"
    parser.add_argument("-h", "--help", action="help", help="显示本帮助 show this help and exit")
    return parser


_DEBUG = "出错时显示调用栈 show tracebacks on errors"
_QUIET = "只显示警告和结果 warnings and results only"
_SCHEDULER = "Dask 调度器地址 address of a running Dask scheduler (default: local)"
_WORKERS = "本机进程数 local workers (default: one per core)"


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``cjgis`` command."""
    parser = argparse.ArgumentParser(
        prog="cjgis",
        add_help=False,
        description="撤村建居社区设施步行可达性：覆盖率表、服务盲区与评审地图。 Walking-access "
        "gaps of 撤村建居 communities: coverage tables, blind spots and a review map.",
        epilog="使用说明 user guide: docs/ (python -m sphinx -b html docs docs/_build/html)",
    )
    _bilingual(parser)
    parser.add_argument(
        "--version",
        action="version",
        version=f"cjgis {__version__}",
        help="显示版本 show the version",
    )
    # global options, accepted before or after the subcommand (`cjgis analyze s.toml --debug`)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG)
    common.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS, help=_QUIET)
    parser.add_argument("--debug", action="store_true", help=_DEBUG)
    parser.add_argument("--quiet", action="store_true", help=_QUIET)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, **kwargs) -> argparse.ArgumentParser:
        return _bilingual(sub.add_parser(name, parents=[common], add_help=False, **kwargs))

    demo = add("demo", help="生成样本安置区并分析 generate the sample district and analyse it")
    demo.add_argument("--folder", default=".", help="写入的项目文件夹 project folder (default .)")
    demo.add_argument(
        "--seed", type=int, default=2017, help="样本随机种子 sample seed (default 2017)"
    )
    demo.add_argument(
        "--regenerate", action="store_true", help="重新生成样本 write the sample anew"
    )
    demo.set_defaults(func=_demo)
    analyze = add("analyze", help="分析研究文件所列的数据 analyse the files a study file names")
    analyze.add_argument("study", help="研究文件 study file (TOML), see docs/manual/study_file.md")
    analyze.add_argument("--no-map", action="store_true", help="不生成地图 skip the HTML map")
    analyze.add_argument(
        "--tiles",
        type=int,
        help="路网分 N 块并行搜索，结果相同 cut the network into N tiles searched as Dask tasks "
        "(cjgis[dask]); same results",
    )
    analyze.add_argument(
        "--halo-m", type=float, help="分块重叠宽度（米） tile halo (default: longest walk)"
    )
    analyze.add_argument("--scheduler", help="Dask 调度器地址 scheduler address (with --tiles)")
    analyze.add_argument("--workers", type=int, help="本机进程数 local workers (with --tiles)")
    analyze.set_defaults(func=_analyze)
    batch = add("batch", help="批量分析多个研究文件 many study files as Dask tasks (cjgis[dask])")
    batch.add_argument("studies", nargs="+", help="研究文件 study files (TOML)")
    batch.add_argument("--scheduler", help=_SCHEDULER)
    batch.add_argument("--workers", type=int, help=_WORKERS)
    batch.add_argument("--no-map", action="store_true", help="不生成地图 skip the HTML maps")
    batch.add_argument(
        "--summary", default="batch.csv", help="汇总表 summary CSV (default batch.csv)"
    )
    batch.set_defaults(func=_batch)
    sweep = add("sweep", help="多情景推演 a study's [sweep] scenarios as Dask tasks (cjgis[dask])")
    sweep.add_argument("study", help="含 [sweep] 的研究文件 study file with a [sweep] section")
    sweep.add_argument("--scheduler", help=_SCHEDULER)
    sweep.add_argument("--workers", type=int, help=_WORKERS)
    sweep.set_defaults(func=_sweep)
    whatif = add(
        "whatif",
        help="假如：增删移设施或加道路，哪些评价改变 what if: change facilities or roads",
    )
    whatif.add_argument("study", help="研究文件 study file (TOML)")
    whatif.add_argument(
        "--add",
        action="append",
        default=[],
        metavar="CATEGORY,LON,LAT[,NAME[,CAPACITY]]",
        help="新增设施，类别可写中文名（可重复） a new facility; category by key or Chinese name",
    )
    whatif.add_argument(
        "--move", action="append", default=[], metavar="ID,LON,LAT", help="移动设施 move a facility"
    )
    whatif.add_argument(
        "--remove", action="append", default=[], metavar="ID", help="删除设施 take a facility away"
    )
    whatif.add_argument(
        "--crs",
        default="EPSG:4326",
        help="LON,LAT 的坐标系 their CRS: EPSG:4326 (default), gcj02 or bd09",
    )
    whatif.add_argument(
        "--roads",
        metavar="FILE",
        help="规划道路线 planned road lines (GeoPackage/GeoJSON/Shapefile) merged into the network",
    )
    whatif.add_argument(
        "--save", help="把新增/移动的设施存为 [planned] CSV write them as a [planned] CSV"
    )
    whatif.set_defaults(func=_whatif)
    site = add("site", help="规划前后对比与建议选址 as-is vs as-planned, and suggested sites")
    site.add_argument(
        "study", help="含 [planned] 的研究文件 study file with [planned] and [siting]"
    )
    site.set_defaults(func=_site)
    standards = add(
        "standards", help="列出标准配置、规则与出处 list standards profiles, rules and sources"
    )
    standards.add_argument(
        "profile", nargs="?", help="标准配置名或 TOML 文件 a profile name or TOML file"
    )
    standards.set_defaults(func=_standards)
    serve = add(
        "serve",
        help="在浏览器中推演方案（评审会用） the what-if in a browser, for a review meeting "
        "(cjgis[serve])",
    )
    serve.add_argument("study", help="研究文件 study file (TOML)")
    serve.add_argument(
        "--port", type=int, default=8765, help="端口 port to listen on (default 8765)"
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="监听地址 address to listen on (default 127.0.0.1, this computer only; any other "
        "needs the token printed at start)",
    )
    serve.add_argument(
        "--tiles",
        help="底图瓦片地址 tile URL template under the map, e.g. an intranet tile server "
        "(default none: no network needed)",
    )
    serve.add_argument(
        "--open", action="store_true", help="打开浏览器 open the page in the default browser"
    )
    serve.set_defaults(func=_serve)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import secrets

    from cjgis.run.runner import analyze_study, check_inputs_exist
    from cjgis.run.study import load_study

    try:
        import uvicorn

        from cjgis.serve.app import make_app
    except ImportError as exc:
        raise CjgisError(
            f'cjgis serve needs its extra ({exc}). Fix: pip install "cjgis[serve]"'
        ) from None
    study = load_study(args.study)
    check_inputs_exist(study)
    analysis = analyze_study(study, verbose=not args.quiet)
    loopback = args.host in ("127.0.0.1", "localhost", "::1")
    token = None if loopback else secrets.token_urlsafe(24)
    app = make_app(
        analysis, output_dir=study.output_dir, token=token, title=study.name, tiles=args.tiles
    )
    url = f"http://{args.host}:{args.port}/" + (f"?token={token}" if token else "")
    print(f"cjgis serve: {study.name} at {url}  (Ctrl-C stops)", flush=True)
    if token:
        print("cjgis serve: the token is printed once; share the address only with the meeting")
    if args.open:
        import webbrowser

        webbrowser.open(url)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    print("cjgis serve: stopped", flush=True)
    return 0


class _Stderr(logging.StreamHandler):
    """A handler that writes to whatever ``sys.stderr`` is when a message comes."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class _Lines(logging.Formatter):
    """``cjgis: message``; warnings ``cjgis: 警告 warning: message``, one line each.

    A Python warning arrives (``logging.captureWarnings``) as ``file:line: Category: text``
    and its source line; the planner sees only the text (``--debug`` keeps the full form).
    """

    def __init__(self, *, debug: bool) -> None:
        super().__init__("cjgis: %(message)s")
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno < logging.WARNING or self.debug:
            return super().format(record)
        text = record.getMessage()
        if record.name == "py.warnings":
            found = _WARNING_TEXT.match(text)
            text = found.group("text") if found else text
        return "cjgis: 警告 warning: " + " ".join(text.split())


#: ``warnings.formatwarning``'s ``path:line: Category: text`` (then the source line).
_WARNING_TEXT = re.compile(r"^.*?:\d+: \w+: (?P<text>.*?)\n(?:  [^\n]*\n)?$", re.S)


class _Gathered(logging.Handler):
    """Keep the command's warnings, one line each, to repeat them at its end."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(_Lines(debug=False))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record).removeprefix("cjgis: 警告 warning: ")
        if line not in self.lines:
            self.lines.append(line)

    def report(self) -> None:
        """Print the warnings again after the run's summary, so none is buried."""
        if not self.lines:
            return
        print(
            f"cjgis: {len(self.lines)} 条警告 warnings (said above as they came):", file=sys.stderr
        )
        for i, line in enumerate(self.lines, start=1):
            print(f"  {i}. {line}", file=sys.stderr)


def _configure_logging(*, quiet: bool, debug: bool = False) -> _Gathered:
    """Show cjgis's messages (and data warnings) as ``cjgis: ...`` lines on stderr.

    Returns the handler that gathers the warnings for the end of the command.
    """
    handler = _Stderr()
    handler.setFormatter(_Lines(debug=debug))
    gathered = _Gathered()
    for name in ("cjgis", "py.warnings"):  # warnings: e.g. GCJ-02 coordinates suspected
        logger = logging.getLogger(name)
        old = (_Stderr, _Gathered)
        logger.handlers = [h for h in logger.handlers if not isinstance(h, old)]
        logger.handlers += [handler, gathered]
        logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return gathered


#: Allocations between the cyclic garbage collector's youngest-generation runs during a
#: command (Python's default is 700). A run makes millions of short-lived objects (GeoJSON,
#: workbook cells, table rows); at the default the collector ran so often, walking the
#: analysis' objects each time, that it took 1.4 s of the benchmark city's 20 (measured with
#: the collector off: 18.5 s). The library leaves the setting alone; the command sets it.
GC_THRESHOLD = (50_000, 20, 100)


@contextlib.contextmanager
def _fewer_collections():
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cjgis`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    gathered = _configure_logging(quiet=args.quiet, debug=args.debug)
    try:
        with _fewer_collections():
            status = args.func(args)
        gathered.report()
        return status
    except CjgisError as exc:
        if args.debug:
            raise
        print(f"cjgis: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: one line; every output is whole or absent (atomic)
        print(
            "cjgis: interrupted; outputs already written are complete, none is half-written",
            file=sys.stderr,
        )
        return 130
    except BrokenPipeError:  # `cjgis standards | head`: the reader left; nothing went wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"cjgis: unexpected error: {type(exc).__name__}: {exc} "
            "(run again with --debug and report the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
