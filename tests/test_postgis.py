"""PostgreSQL/PostGIS as input and output (issue 27, item 2), against a real server.

``.ci/run`` installs Debian's PostgreSQL and PostGIS and starts them (``.ci/postgres``), then
exports ``CJGIS_TEST_POSTGRES`` (the URL, no password) and ``CJGIS_TEST_PGPASSWORD``. A
developer runs ``eval "$(bash .ci/postgres)"`` first; without it these tests are skipped, and
under CI they fail. Each test works in schemas of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import socket
import uuid

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import append_to_study, edit_study

from cjgis import InputError, OutputError, StudyFileError, analyze_study, load_study
from cjgis.inputs.database import DatabaseSource
from cjgis.inputs.io import read_any
from cjgis.outputs.database import write_postgis
from cjgis.outputs.deliverables import write_all
from cjgis.outputs.scorecard import scorecard_table

URL = os.environ.get("CJGIS_TEST_POSTGRES")
PASSWORD = os.environ.get("CJGIS_TEST_PGPASSWORD", "")

if URL is None:
    if os.environ.get("CI"):
        pytest.fail(
            "CJGIS_TEST_POSTGRES is not set: .ci/run starts PostgreSQL with .ci/postgres",
            pytrace=False,
        )
    pytest.skip('no test database: run eval "$(bash .ci/postgres)" first', allow_module_level=True)

COMMUNITIES = '[communities]\npath = "communities.geojson"\n'
FACILITIES = '[facilities]\npath = "facilities.csv"\n'
RESIDENTS = '[residents]\npath = "buildings.gpkg"\n'


@pytest.fixture
def password(monkeypatch):
    """The test role's password, from the environment as a planner's machine gives it."""
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    monkeypatch.delenv("PGPASSFILE", raising=False)
    return PASSWORD


@pytest.fixture
def engine(password):
    import sqlalchemy

    eng = sqlalchemy.create_engine(URL.replace("postgresql://", "postgresql+psycopg://", 1))
    yield eng
    eng.dispose()


@pytest.fixture
def schemas(engine):
    """Make schema names for one test (Chinese, as a bureau names them); dropped afterwards."""
    made: list[str] = []

    def make(stem: str) -> str:
        name = f"{stem}_{uuid.uuid4().hex[:8]}"
        made.append(name)
        return name

    yield make
    with engine.begin() as conn:
        for name in made:
            for schema in (name, f"{name}_site"):
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def db_study(study_dir, engine, schemas):
    """The sample with communities, residents and facilities in a database, Chinese names.

    Boundaries and buildings are PostGIS tables (the buildings in CGCS2000 3° GK, EPSG:4549);
    the facilities a plain table with lon/lat read through a query.
    """
    schema = schemas("基础数据")
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    gpd.read_file(study_dir / "communities.geojson").to_postgis("社区边界", engine, schema=schema)
    buildings = gpd.read_file(study_dir / "buildings.gpkg").to_crs(4549)
    buildings.to_postgis("居民楼栋", engine, schema=schema)
    pd.read_csv(study_dir / "facilities.csv").to_sql(
        "公共服务设施", engine, schema=schema, index=False
    )
    edit_study(
        study_dir,
        COMMUNITIES,
        f'[communities]\npath = "{URL}"\ntable = "{schema}.社区边界"\n',
    )
    edit_study(study_dir, RESIDENTS, f'[residents]\npath = "{URL}"\ntable = "{schema}.居民楼栋"\n')
    path = edit_study(
        study_dir,
        FACILITIES,
        f'[facilities]\npath = "{URL}"\n'
        f'sql = """\nSELECT * FROM "{schema}"."公共服务设施"\n  WHERE category IS NOT NULL\n"""\n',
    )
    return path, schema


def _key(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order, and a missing value one thing (a database's NULL, a CSV's blank)."""
    keys = ["community_id", "category", "resident_group"]
    keys = [k for k in keys if k in frame]
    out = frame.sort_values(keys).reset_index(drop=True)
    return out.astype(object).where(out.notna(), np.nan).infer_objects()


def test_inputs_from_the_database_give_the_files_coverage(db_study, sample_analysis):
    path, _ = db_study
    study = load_study(path)
    analysis = analyze_study(study, verbose=False)
    cols = ["community_id", "category", "status", "covered_share", "residents", "median_walk_min"]
    got, want = _key(analysis.coverage[cols]), _key(sample_analysis.coverage[cols])
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)
    assert len(analysis.residents) == len(sample_analysis.residents) == 390
    assert analysis.rejected.empty
    # the buildings came in EPSG:4549 (the SRID of their column) and were read as such
    here, there = (
        a.residents.set_index("resident_id").geometry.to_crs(4549).centroid.sort_index()
        for a in (analysis, sample_analysis)
    )
    assert here.index.equals(there.index)
    assert float(here.distance(there).max()) < 0.01


def test_round_trip_outputs_equal_the_files(db_study, schemas, engine, tmp_path):
    path, _ = db_study
    out_schema = schemas("规划成果")
    append_to_study(
        path.parent,
        f'[output]\ndir = "out"\npostgis = "{URL}"\nschema = "{out_schema}"\n'
        'run_id = "2026-12 现状"\n',
    )
    study = load_study(path)
    assert study.postgis is not None and study.postgis.run_id == "2026-12 现状"
    analysis = analyze_study(study, verbose=False)
    paths = write_all(analysis, study.output_dir, postgis=study.postgis)
    assert paths["postgis"].endswith("(run_id '2026-12 现状', replace)")

    def table(name: str) -> pd.DataFrame:
        frame = pd.read_sql(f'SELECT * FROM "{out_schema}"."{name}"', engine)
        assert (frame.pop("run_id") == "2026-12 现状").all()
        return frame

    csv = pd.read_csv(paths["coverage"], encoding="utf-8-sig", dtype={"community_id": str})
    db = table("coverage")
    assert list(db.columns) == list(csv.columns)
    pd.testing.assert_frame_equal(_key(db), _key(csv), check_dtype=False, atol=1e-9)

    card = scorecard_table(analysis)
    pd.testing.assert_frame_equal(
        _key(table("scorecard")), _key(card), check_dtype=False, atol=1e-9
    )
    communities = gpd.read_postgis(
        f'SELECT * FROM "{out_schema}".communities', engine, geom_col="geometry"
    )
    gpkg = gpd.read_file(paths["communities"]).sort_values("community_id")
    communities = communities.sort_values("community_id")
    assert communities.crs.to_epsg() == 4326
    for column in ("community_id", "community_name", "residents", "categories_met"):
        assert communities[column].tolist() == gpkg[column].tolist(), column
    runs = table("runs")
    assert len(runs) == 1 and "chcj_2017" in runs["standards"].iloc[0]
    # as QGIS LTR opens it: GDAL 3.6's PostgreSQL driver, the layer, its type and rows
    listed = _ogrinfo(out_schema, "communities")
    assert "Geometry: Polygon" in listed and "Feature Count: 8" in listed
    assert "categories_not_met: String" in listed


def _ogrinfo(schema: str, layer: str) -> str:
    import shutil
    import subprocess
    from urllib.parse import urlsplit

    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.fail("no ogrinfo: apt-get install gdal-bin (.ci/run installs it)")
    parts = urlsplit(URL)
    source = (
        f"PG:host={parts.hostname} port={parts.port or 5432} dbname={parts.path.strip('/')} "
        f"user={parts.username} schemas={schema}"
    )
    return subprocess.run(
        [ogrinfo, "-ro", "-so", source, layer],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "PGPASSWORD": PASSWORD},
    ).stdout


def test_append_keeps_other_runs_and_replaces_its_own(sample_analysis, schemas, engine):
    schema = schemas("成果")
    write_postgis(sample_analysis, URL, run_id="a", schema=schema)
    write_postgis(sample_analysis, URL, run_id="b", schema=schema, mode="append")
    write_postgis(sample_analysis, URL, run_id="a", schema=schema, mode="append")
    counts = pd.read_sql(
        f'SELECT run_id, count(*) AS n FROM "{schema}".coverage GROUP BY 1 ORDER BY 1', engine
    )
    n = len(sample_analysis.coverage_rows())
    assert counts.to_dict("list") == {"run_id": ["a", "b"], "n": [n, n]}
    written = write_postgis(sample_analysis, URL, run_id="c", schema=schema)
    counts = pd.read_sql(f'SELECT DISTINCT run_id FROM "{schema}".coverage', engine)
    assert counts["run_id"].tolist() == ["c"]
    assert written["coverage"] == n and written["residents"] == 390


def test_a_failed_run_leaves_the_previous_tables(sample_analysis, schemas, engine):
    schema = schemas("成果")
    write_postgis(sample_analysis, URL, run_id="before", schema=schema)

    def counts() -> dict[str, int]:
        names = ["coverage", "communities", "residents", "scorecard", "runs"]
        with engine.connect() as conn:
            return {
                n: conn.exec_driver_sql(f'SELECT count(*) FROM "{schema}"."{n}"').scalar()
                for n in names
            }

    before = counts()
    with engine.begin() as conn:  # a table another tool changed: the run's rows do not fit
        conn.exec_driver_sql(
            f'ALTER TABLE "{schema}".scorecard ALTER COLUMN status_en TYPE integer USING 0'
        )
    with pytest.raises(OutputError, match=r"table scorecard cannot take.*nothing was written"):
        write_postgis(sample_analysis, URL, run_id="after", schema=schema, mode="append")
    assert counts() == before  # coverage, written before the scorecard, rolled back too
    runs = pd.read_sql(f'SELECT run_id FROM "{schema}".runs', engine)
    assert runs["run_id"].tolist() == ["before"]


def test_the_password_comes_from_pgpass_and_is_never_printed(
    db_study, monkeypatch, tmp_path, password
):
    from urllib.parse import urlsplit

    parts = urlsplit(URL)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{parts.hostname}:{parts.port or 5432}:*:{parts.username}:{password}\n")
    pgpass.chmod(0o600)
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    path, schema = db_study
    frame = read_any(DatabaseSource(URL, table=f"{schema}.社区边界"))
    assert len(frame) == 8 and frame.crs.to_epsg() == 4326

    # written into the study file, the password is refused, and not echoed
    with_secret = URL.replace(f"{parts.username}@", f"{parts.username}:{password}@")
    text = path.read_text(encoding="utf-8").replace(URL, with_secret, 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StudyFileError, match="carries a password") as caught:
        load_study(path)
    assert password not in str(caught.value)
    assert "PGPASSWORD" in str(caught.value) and "pgpass" in str(caught.value)

    # a wrong password: the host, database and user named; no password in the message
    monkeypatch.delenv("PGPASSFILE")
    monkeypatch.setenv("PGPASSWORD", "not-the-password")
    with pytest.raises(InputError) as caught:
        read_any(DatabaseSource(URL, table=f"{schema}.社区边界"))
    message = str(caught.value)
    assert f"cannot connect to database '{parts.path.strip('/')}'" in message
    assert f"on {parts.hostname}:{parts.port}" in message and f"as {parts.username}" in message
    assert "not-the-password" not in message and password not in message


def test_a_refused_connection_names_host_and_database(password, sample_analysis):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://planner@127.0.0.1:{port}/规划库"
    with pytest.raises(InputError) as caught:
        read_any(DatabaseSource(url, table="社区边界"))
    message = str(caught.value)
    assert f"cannot connect to database '规划库' on 127.0.0.1:{port} as planner" in message
    assert "Connection refused" in message and "Fix: check that the server runs" in message
    refused = f"cannot connect to database '规划库' on 127.0.0.1:{port}"
    with pytest.raises(OutputError, match=refused):
        write_postgis(sample_analysis, url, run_id="x")


def test_a_missing_table_lists_those_there_are(db_study):
    _, schema = db_study
    with pytest.raises(InputError) as caught:
        read_any(DatabaseSource(URL, table=f"{schema}.社区边"))
    message = str(caught.value)
    assert f"no table or view '社区边' in schema '{schema}'" in message
    assert "公共服务设施, 居民楼栋, 社区边界" in message
    assert "did you mean '社区边界'?" in message
    with pytest.raises(InputError, match=r"the query failed \(column \"人口\" does not exist"):
        read_any(DatabaseSource(URL, sql=f'SELECT 人口 FROM "{schema}"."居民楼栋"'))


def test_geometry_columns_of_a_query_are_checked(db_study):
    _, schema = db_study
    table = f'"{schema}"."社区边界"'
    two = f"SELECT community_id, geometry, ST_Centroid(geometry) AS centre FROM {table}"
    with pytest.raises(InputError, match=r"2 geometry columns \(geometry, centre\)"):
        read_any(DatabaseSource(URL, sql=two))
    mixed = (
        f"SELECT geometry FROM {table} WHERE community_id = 'C01' UNION ALL "
        f"SELECT ST_Transform(geometry, 4549) FROM {table} WHERE community_id = 'C02'"
    )
    with pytest.raises(InputError, match=r"SRIDs 4326, 4549.*ST_Transform"):
        read_any(DatabaseSource(URL, sql=mixed))
    geography = f"SELECT geometry::geography AS g FROM {table}"
    with pytest.raises(InputError, match=r"g::geometry AS geom"):
        read_any(DatabaseSource(URL, sql=geography))
    plain = read_any(DatabaseSource(URL, sql=f"SELECT community_id FROM {table} ORDER BY 1"))
    assert not isinstance(plain, gpd.GeoDataFrame)
    assert plain["_row"].tolist() == list(range(1, 9))


@pytest.mark.parametrize(
    ("section", "value", "message"),
    [
        (COMMUNITIES, 'table = "社区边界"', "path is no database URL"),
        ("", 'layer = "x"', "layer is given beside a database URL"),
        ("", "", "needs exactly one of table and sql"),
        ("", 'table = "a"\nsql = "SELECT 1"', "needs exactly one of table and sql"),
    ],
)
def test_study_file_errors_of_a_database_layer(study_dir, section, value, message):
    if section:
        path = edit_study(study_dir, section, f"{section}{value}\n")
    else:
        path = edit_study(study_dir, COMMUNITIES, f'[communities]\npath = "{URL}"\n{value}\n')
    with pytest.raises(StudyFileError, match=message):
        load_study(path)


def test_database_urls_only_where_tables_are_read(study_dir):
    path = append_to_study(study_dir, "")
    text = path.read_text(encoding="utf-8")
    water = text.replace('water = "river.geojson"', f'water = "{URL}"')
    path.write_text(water, encoding="utf-8")
    with pytest.raises(StudyFileError, match=r"\[map\] water = .*reads files only"):
        load_study(path)
    planned = text.replace('facilities = "planned_facilities.csv"', f'facilities = "{URL}"')
    path.write_text(planned, encoding="utf-8")
    with pytest.raises(StudyFileError, match=r"\[planned\] facilities = .*no table"):
        load_study(path)
    output = text + f'\n[output]\npostgis = "{URL}"\npostgis_mode = "update"\n'
    path.write_text(output, encoding="utf-8")
    with pytest.raises(StudyFileError, match="postgis_mode = 'update'"):
        load_study(path)
    path.write_text(text + '\n[output]\npostgis = "out.sqlite"\n', encoding="utf-8")
    with pytest.raises(StudyFileError, match="is no database URL"):
        load_study(path)


def test_cli_writes_the_database_and_prints_no_password(db_study, schemas, engine, password):
    import subprocess
    import sys

    path, _ = db_study
    out_schema = schemas("成果")
    append_to_study(
        path.parent,
        f'[output]\ndir = "out"\nmap = "out/map.html"\npostgis = "{URL}"\n'
        f'schema = "{out_schema}"\n',
    )
    done = subprocess.run(
        [sys.executable, "-m", "cjgis.cli", "analyze", str(path), "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PGPASSWORD": password},
    )
    assert done.returncode == 0, done.stderr
    assert f"postgis        {URL} schema {out_schema} (run_id 'sample', replace)" in done.stdout
    assert password not in done.stdout + done.stderr
    runs = pd.read_sql(f'SELECT run_id, summary FROM "{out_schema}".runs', engine)
    assert runs["run_id"].tolist() == ["sample"]
    assert runs["summary"].iloc[0] in done.stdout


def test_a_source_is_named_on_one_line():
    assert str(DatabaseSource(URL, sql="SELECT *\n  FROM x")) == f"{URL} sql SELECT * FROM x"


def test_road_lines_from_the_database_make_the_network_of_the_file(
    sample_study, study_dir, schemas, engine, tmp_path, password
):
    from conftest import edit_study

    from cjgis import network_from_file, network_from_study
    from cjgis.streets.sources import read_street_graph

    graph = read_street_graph(sample_study.parent / "streets.graphml")
    lines = gpd.GeoDataFrame(
        {"highway": [d.get("highway") for u, v, d in graph.edges(data=True) if str(u) < str(v)]},
        geometry=[
            d.get("geometry")
            or shapely.LineString([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in (u, v)])
            for u, v, d in graph.edges(data=True)
            if str(u) < str(v)
        ],
        crs=graph.graph["crs"],
    ).to_crs(4549)
    lines = lines[~lines.geometry.duplicated()].reset_index(drop=True)
    lines["highway"] = lines["highway"].astype(str)
    schema = schemas("道路")
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    lines.to_postgis("道路中心线", engine, schema=schema)
    lines.to_file(tmp_path / "道路中心线.gpkg")
    from_db = network_from_file(DatabaseSource(URL, table=f"{schema}.道路中心线"))
    from_file = network_from_file(tmp_path / "道路中心线.gpkg")
    assert from_db.n_edges == from_file.n_edges > 400
    np.testing.assert_allclose(
        np.sort(from_db.edge_length_m), np.sort(from_file.edge_length_m), atol=1e-6
    )
    path = edit_study(
        study_dir,
        '[network]\npath = "streets.graphml"\n',
        f'[network]\npath = "{URL}"\nsql = "SELECT * FROM \\"{schema}\\".\\"道路中心线\\""\n',
    )
    study = load_study(path)
    assert study.network.label == "query"
    assert network_from_study(study).n_edges == from_file.n_edges
