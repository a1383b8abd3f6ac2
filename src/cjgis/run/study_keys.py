"""What every study-file key means: the one text the manual's key table is made from.

The keys themselves, their types and defaults come from the section dataclasses of
:mod:`cjgis.run.study`; ``[analysis]`` from :class:`~cjgis.judge.settings.AnalysisOptions` and
its module docstring. A section whose keys are another's (``[planned.facilities]``: those of
``[facilities]``) says so in :data:`AS_IN`; tests check that every key has its text here.
"""

from __future__ import annotations

#: ``table`` and ``sql`` beside a database ``path``: the same in every layer that reads one.
_DATABASE_KEYS: dict[str, tuple[str, str]] = {
    "table": (
        'with `path = "postgresql://user@host:5432/db"`: the table or view to read, `"name"` or `"schema.name"` (a PostGIS geometry column gives the CRS by its SRID; a table without one is read as a table of lon/lat columns). A table that is not there stops with the tables there are. The password is never in the study file: PGPASSWORD or `~/.pgpass`',
        "—",
    ),
    "sql": (
        "with a database `path`: a query instead of a table (`sql = \"SELECT * FROM 设施 WHERE 状态 = '在用'\"`), at most one geometry column; exactly one of `table` and `sql`",
        "—",
    ),
}
#: A CAD drawing's ``layers`` and ``bridge_layers``: ``[network]`` and ``[planned.roads]``.
_CAD_KEYS: dict[str, tuple[str, str]] = {
    "layers": (
        'the CAD layers of a DXF drawing (`path = "道路.dxf"`) that hold road centre lines, e.g. `["道路中心线"]`: their lines, polylines and arcs become road lines, split and joined as any others; other entities (text, hatches) are left out, said in the log. A drawing without them stops with its layers. Chinese layer names are read as the drawing is encoded (UTF-8 from AutoCAD 2007 on, else its code page, e.g. ANSI_936); give `encoding = "gbk"` where its header is wrong. A drawing has no CRS: give `crs`, usually `"EPSG:4549"` (CGCS2000 3° GK, 120°E)',
        "`[]`",
    ),
    "bridge_layers": (
        "CAD layers of bridges and footbridges: their lines are kept whole where they cross a road (no junction there), joined at their ends only, and take no residents or facilities",
        "`[]`",
    ),
}

#: Section -> key -> (meaning, default as the manual shows it). Markdown (MyST) text.
KEY_DOCS: dict[str, dict[str, tuple[str, str]]] = {
    "study": {
        "name": (
            "names the output folder and the map",
            "required",
        ),
        "description": (
            "free text",
            "—",
        ),
    },
    "network": {
        "path": (
            "street network file: osmnx GraphML, OSM XML (`.osm`), OSM PBF (`.osm.pbf`, clipped to the study area), or road lines (`.gpkg`/`.gdb`/`.shp`/`.geojson`, a CAD drawing `.dxf` with `layers`, or a PostGIS table `postgresql://...` with `table`/`sql`); see Street networks (路网), in {doc}`/manual/networks_and_standards`. One of `path`, `place`, `bbox`",
            "—",
        ),
        "place": (
            'download through osmnx by place name (e.g. `"西湖区, 杭州市, 中国"`); needs the Overpass API once, then cached',
            "—",
        ),
        "bbox": (
            "download through osmnx: `[west, south, east, north]` in WGS84 degrees",
            "—",
        ),
        "crs": (
            'CRS of a road-line layer that declares none (`"gcj02"`/`"bd09"` too)',
            "—",
        ),
        "join_m": (
            "road lines: ends this close to another line are joined to it, metres",
            "`1`",
        ),
        "clip_margin_m": (
            "PBF extracts keep the ways within the communities' box plus this margin",
            "`3000`",
        ),
        "planned": (
            "planned road lines (any vector format) merged into the network for every run: each end joins the nearest street within `planned_join_m` (at its node if one is about as near, else the street is split there)",
            "—",
        ),
        "planned_join_m": (
            "how far a planned road end may be from the street it joins, metres",
            "`30`",
        ),
        "cache": (
            "cache the projected network (arrays, `.npz`) keyed by the file's content (or the place/bbox), CRS and settings, so a second run skips parsing and downloading",
            "`true`, `cache/` (current folder)",
        ),
        "cache_dir": (
            "cache the projected network (arrays, `.npz`) keyed by the file's content (or the place/bbox), CRS and settings, so a second run skips parsing and downloading",
            "`true`, `cache/` (current folder)",
        ),
        "components": (
            '`"major"`: keep the largest connected piece and every piece with at least 10 % of its street length and 1 km of street, each analysed on its own (a warning names them and the likely cause: a clipped extract, a missing bridge); `"largest"`: the largest only; `"all"`: every piece. Residences and facilities whose nearest street is in a left-out small piece are attached to the kept network and reported (`note` column, log)',
            '`"major"`',
        ),
        "layer": (
            "road lines: the layer to read from a GeoPackage or an ArcGIS File Geodatabase (`.gdb`) holding several",
            "the only layer",
        ),
        **_CAD_KEYS,
        "encoding": (
            "text encoding of a road-line shapefile's attributes or a DXF drawing's layer names (`\"gbk\"`)",
            "guessed",
        ),
        "table": (
            'with `path = "postgresql://user@host:5432/db"`: the table of road lines (a PostGIS line geometry, `"schema.name"`), split and joined as a road-line file; a `bridge` column (yes/no) keeps bridges whole. Read and built every run (not cached)',
            "—",
        ),
        "sql": (
            "with a database `path`: a query of road lines instead of a table",
            "—",
        ),
    },
    "communities": {
        "path": (
            "community boundaries: GeoPackage, GeoJSON, Shapefile or File Geodatabase of polygons, or a PostgreSQL/PostGIS database (`postgresql://user@host/db`, with `table` or `sql`)",
            "required",
        ),
        "id": (
            "column names of the community id and its (Chinese) name",
            "required",
        ),
        "name": (
            "column names of the community id and its (Chinese) name",
            "required",
        ),
        "crs": (
            'CRS of the coordinates: an EPSG code applies where the file declares none (a file declaring another CRS stops the run); `"gcj02"`/`"bd09"` convert Chinese coordinates and apply over a file\'s declared WGS84 (such exports say WGS84 whatever they hold)',
            "—",
        ),
        "encoding": (
            'text encoding of a shapefile\'s attributes or a CSV (`"gbk"`, `"utf-8"`). Without it, a shapefile with no `.cpg` (as ArcGIS often writes it) is read as UTF-8 where that is valid, else as GB18030/GBK, said in the log; text that reads garbled either way stops the run with the fix',
            "guessed",
        ),
        "layer": (
            'the layer to read from a GeoPackage or an ArcGIS File Geodatabase (`path = "基础数据.gdb"`, a folder) holding several; without it a file of several layers stops with their names',
            "the only layer",
        ),
        **_DATABASE_KEYS,
    },
    "residents": {
        "path": (
            "residences: points or building/compound polygons (GeoPackage, GeoJSON, Shapefile), or a CSV/XLSX table with a row per building and its longitude/latitude, as a street office keeps it (社区, 楼栋, 户数, 人口, 60岁以上人口, 经度, 纬度; one of `path`, `raster`, `community_totals`)",
            "—",
        ),
        "lon": (
            "a table's coordinate columns (recognised unnamed: `lon`/`lng`/`longitude`/`经度`/`x`, `lat`/`latitude`/`纬度`/`y`) and the workbook's sheet (name, or number from 0); with `crs = \"gcj02\"` an Amap-located list is converted. A row without usable coordinates is rejected with its reason; a sheet without the columns is named with the workbook's other sheets; `encoding` as in `[communities]`",
            "first sheet, guessed encoding",
        ),
        "lat": (
            "a table's coordinate columns (recognised unnamed: `lon`/`lng`/`longitude`/`经度`/`x`, `lat`/`latitude`/`纬度`/`y`) and the workbook's sheet (name, or number from 0); with `crs = \"gcj02\"` an Amap-located list is converted. A row without usable coordinates is rejected with its reason; a sheet without the columns is named with the workbook's other sheets; `encoding` as in `[communities]`",
            "first sheet, guessed encoding",
        ),
        "sheet": (
            "a table's coordinate columns (recognised unnamed: `lon`/`lng`/`longitude`/`经度`/`x`, `lat`/`latitude`/`纬度`/`y`) and the workbook's sheet (name, or number from 0); with `crs = \"gcj02\"` an Amap-located list is converted. A row without usable coordinates is rejected with its reason; a sheet without the columns is named with the workbook's other sheets; `encoding` as in `[communities]`",
            "first sheet, guessed encoding",
        ),
        "encoding": (
            "a table's coordinate columns (recognised unnamed: `lon`/`lng`/`longitude`/`经度`/`x`, `lat`/`latitude`/`纬度`/`y`) and the workbook's sheet (name, or number from 0); with `crs = \"gcj02\"` an Amap-located list is converted. A row without usable coordinates is rejected with its reason; a sheet without the columns is named with the workbook's other sheets; `encoding` as in `[communities]`",
            "first sheet, guessed encoding",
        ),
        "population": (
            "column with residents per feature (with `path`)",
            "—",
        ),
        "raster": (
            "a population GeoTIFF (e.g. WorldPop), any CRS: each cell with people becomes a weighted point; cells outside every community are listed with their people",
            "—",
        ),
        "community_totals": (
            "column of the communities file with residents per community; `elderly`/`households` then name total columns there too",
            "—",
        ),
        "buildings": (
            "with `community_totals`: residential buildings to spread the totals over, by `floor_area` (column) or footprint area",
            "—",
        ),
        "buildings_layer": (
            'the layer of `buildings` where the file holds several (`buildings_layer = "建筑"` in a `.gdb`)',
            "the only layer",
        ),
        "floor_area": (
            "with `community_totals`: residential buildings to spread the totals over, by `floor_area` (column) or footprint area",
            "—",
        ),
        "grid_m": (
            "with `community_totals` and no buildings in a community: spacing of the grid of points the total is spread over",
            "50",
        ),
        "id": (
            "column with a residence id",
            "row number",
        ),
        "elderly": (
            "columns with elderly (60+) and household counts",
            "—",
        ),
        "households": (
            "columns with elderly (60+) and household counts",
            "—",
        ),
        "villagers": (
            'columns counting original villagers (原村民) and renters (租住人口): demand groups a rule may count (`demand = "villagers"`)',
            "—",
        ),
        "renters": (
            'columns counting original villagers (原村民) and renters (租住人口): demand groups a rule may count (`demand = "villagers"`)',
            "—",
        ),
        "community": (
            "column naming each residence's community (for residents living outside it, 未回迁/安置在外); otherwise the polygon it lies in",
            "spatial join",
        ),
        "crs": (
            'CRS of the coordinates: an EPSG code applies where the file declares none (a file declaring another CRS stops the run); `"gcj02"`/`"bd09"` convert Chinese coordinates and apply over a file\'s declared WGS84 (such exports say WGS84 whatever they hold)',
            "—",
        ),
        "layer": (
            'the layer to read from a GeoPackage or an ArcGIS File Geodatabase (`path = "基础数据.gdb"`, a folder) holding several; without it a file of several layers stops with their names',
            "the only layer",
        ),
        **_DATABASE_KEYS,
    },
    "residents_outside": {
        "path": (
            "residents living outside their community (未回迁/安置在外, 集中过渡地): points belonging to the community id in `community`, reported in rows of their own (`resident_group` 安置在外 living outside), assessed where they live now",
            "—",
        ),
        "population": (
            "residents living outside their community (未回迁/安置在外, 集中过渡地): points belonging to the community id in `community`, reported in rows of their own (`resident_group` 安置在外 living outside), assessed where they live now",
            "—",
        ),
        "community": (
            "residents living outside their community (未回迁/安置在外, 集中过渡地): points belonging to the community id in `community`, reported in rows of their own (`resident_group` 安置在外 living outside), assessed where they live now",
            "—",
        ),
        "id": (
            "as in `[residents]` (a table of transition sites works too)",
            "—",
        ),
        "elderly": (
            "as in `[residents]` (a table of transition sites works too)",
            "—",
        ),
        "households": (
            "as in `[residents]` (a table of transition sites works too)",
            "—",
        ),
        "crs": (
            "as in `[residents]` (a table of transition sites works too)",
            "—",
        ),
        "lon": (
            "as in `[residents]` (a table of transition sites works too)",
            "—",
        ),
        "lat": (
            "as in `[residents]` (a table of transition sites works too)",
            "—",
        ),
        "sheet": (
            "as in `[residents]` (a table of transition sites works too)",
            "—",
        ),
        "encoding": (
            "as in `[residents]` (a table of transition sites works too)",
            "—",
        ),
    },
    "facilities": {
        "path": (
            "facility points (layer), or CSV/XLSX with longitude/latitude columns, or a PostgreSQL/PostGIS database (`postgresql://user@host/db`, with `table` or `sql`)",
            "required",
        ),
        "category": (
            "column with the category key: `elderly_care`, `ev_charging`, `ceremony_hall`, `tool_storage`, a GB 50180 item (`community_service`, `culture_station`, `sport`, `kindergarten`, `market`, `convenience`, `health_centre`, `nonmotor_parking`, `police_room`, `waste_point`, `nursing_home`), or any other key (analysed the same way). Rows without one get it from editable keyword rules, on the **name first**, then on name and type together (a 居家养老服务照料中心 that Amap types 养老院 is elderly care; when name and type disagree the log says so, and `facilities.gpkg`'s `classified_by` says `column`, `name` or `type` for every row). A category column that holds Amap types (`…;…;…`) stops the run with the fix `type = \"…\"`. The rules (`cjgis.inputs.categories.KEYWORD_RULES`: 养老院/敬老院/护理院 → residential home; 居家养老/照料中心/托老所/助餐/老年食堂 → elderly care, not 养老保险 offices; 充电 with 电动车/电瓶车/电动自行车, 充换电, 换电柜, 充停场所 → e-bike charging, OSM `amenity=charging_station` only with `bicycle=yes`; 红白喜事/家宴/礼堂 → ceremony hall, not a school's 礼堂; 农具 → tool storage; 文化活动站, 幼儿园, 卫生服务中心, 菜市场, 警务室, …); rows no rule matches are listed in `rejected.csv`",
            "a `category`/`类别` column, else keywords",
        ),
        "type": (
            "column with a type text for the keyword rules (e.g. Amap's 类型)",
            "a `类型`/`type` column",
        ),
        "sheet": (
            "the sheet of an XLSX workbook (its name, or its number from 0; a sheet without the columns, such as a cover page, is named with the others) and the text encoding (as in `[communities]`)",
            "first sheet, guessed",
        ),
        "encoding": (
            "the sheet of an XLSX workbook (its name, or its number from 0; a sheet without the columns, such as a cover page, is named with the others) and the text encoding (as in `[communities]`)",
            "first sheet, guessed",
        ),
        "name": (
            "columns with the facility name and id",
            "a `name`/`名称` column, row number",
        ),
        "id": (
            "columns with the facility name and id",
            "a `name`/`名称` column, row number",
        ),
        "lon": (
            "coordinate columns of a table",
            "recognised: `lon`/`lng`/`longitude`/`经度`/`x`, `lat`/`latitude`/`纬度`/`y`",
        ),
        "lat": (
            "coordinate columns of a table",
            "recognised: `lon`/`lng`/`longitude`/`经度`/`x`, `lat`/`latitude`/`纬度`/`y`",
        ),
        "crs": (
            'CRS of the coordinates: an EPSG code, or `"gcj02"` (Amap/Gaode, Tencent exports) or `"bd09"` (Baidu), converted to WGS84 exactly (iterative inverse)',
            "EPSG:4326",
        ),
        "capacity": (
            'column with capacity in the rule\'s unit (m², sockets, tables, beds); a non-numeric or negative value (e.g. `12床`) rejects the row with its reason; an empty cell means "not given"',
            "—",
        ),
        "layer": (
            'the layer to read from a GeoPackage or an ArcGIS File Geodatabase (`path = "基础数据.gdb"`, a folder) holding several; without it a file of several layers stops with their names',
            "the only layer",
        ),
        **_DATABASE_KEYS,
    },
    "standards": {
        "profile": (
            'a profile or a list of them, later ones overriding earlier ones per category: `"chcj_2017"` (撤村建居: the 2017 opinion\'s four categories and the GB 50180 items it names; the demo\'s), `"hangzhou_2017"` (the four), `"gb50180_2018"` (life-circle items), or TOML files of your own (a profile may `includes` others). `cjgis standards` lists every value with its basis, clause and whether it was verified. Every category of the profile is assessed and listed in every output, with or without facilities in the input (without: nobody within reach, reason 无设施数据, named in the run\'s summary). No `[standards]` section: `chcj_2017`, said in the log, the workbook\'s 评价依据 sheet and the map\'s legend; `profile = "none"`: no profile (every category 无标准)',
            '`"chcj_2017"`',
        ),
        "categories": (
            'per-category overrides, `[standards.categories.<key>]` with `minutes` or `metres`, `walk_speed_m_s`, `target_share`, `demand`, `speed`, `capacity_amount`, `capacity_per`, `capacity_of`, `capacity_unit`, `capacity_unit_zh` (e.g. `capacity_amount = 40`, `capacity_per = 1000`, `capacity_of = "elderly"`, `capacity_unit = "beds"`: 40 beds per 1,000 elderly). A standard\'s distance, target or capacity changed here is a planner rule (规划建议值) from then on: its verdict reads 满足/未满足建议值, never 达标',
            "—",
        ),
        "speeds": (
            "`[standards.speeds]` group speeds, e.g. `elderly = 0.85`",
            "the profile's",
        ),
        "exclude": (
            'categories left out on purpose, e.g. `exclude = ["waste_point"]`: 未评价 (not assessed) in every output, their facilities listed in `rejected.csv` with the reason',
            "`[]`",
        ),
    },
    "output": {
        "dir": (
            "output folder",
            "`data/processed/<name>` (current folder)",
        ),
        "map": (
            "map file",
            "`maps/<name>.html` (current folder)",
        ),
        "formats": (
            'formats of the layer outputs: `["gpkg"]`, or `["gpkg", "gdb"]` to write every layer and table (communities, residences, facilities, blind spots, service areas, coverage, rejected rows) also into one ArcGIS File Geodatabase `<name>.gdb` in the output folder (`<name>_site.gdb` for `cjgis site`); a layer of points and polygons becomes `<layer>_points` and `<layer>_polygons`',
            '`["gpkg"]`',
        ),
        "postgis": (
            'also write every layer and table (those of `formats`, the scorecard, and a `runs` table: when, which cjgis, which standards) into a PostgreSQL/PostGIS database, `"postgresql://user@host:5432/db"`, in one transaction: a run that fails leaves the tables as they were. The password from PGPASSWORD or `~/.pgpass`, never here. `cjgis site` writes its as-planned run into `<schema>_site`',
            "—",
        ),
        "schema": (
            "the database schema the tables go into; made if missing",
            '`"cjgis"`',
        ),
        "postgis_mode": (
            '`"replace"`: the tables hold this run only; `"append"`: the rows of other runs stay and this run id\'s rows are replaced',
            '`"replace"`',
        ),
        "run_id": (
            "the run's name in every row of the database tables (the first column, `run_id`)",
            "the study's name",
        ),
    },
    "planned": {
        "roads": (
            "planned road lines (any vector format, MultiLineStrings taken part by part) noded among themselves and merged into the street network (see A new site); a path, or a `[planned.roads]` table (`cjgis site`)",
            "—",
        ),
        "join_m": (
            "how far a planned road end may be from the street or planned road it joins, metres",
            "30",
        ),
        "facilities": (
            "planned facilities: a path read with the `[facilities]` columns, or a `[planned.facilities]` table with the same keys as `[facilities]`",
            "—",
        ),
        "residents": (
            "planned residential buildings: a path read with the `[residents]` columns, or a `[planned.residents]` table",
            "—",
        ),
        "communities": (
            "the new site's boundary, a community of its own as planned: a path read with the `[communities]` columns, or a `[planned.communities]` table (`path`, `id`, `name`, `crs`, `encoding`)",
            "—",
        ),
    },
    "planned.roads": {
        "path": (
            "the planned road lines",
            "—",
        ),
        "crs": (
            'their CRS where the file declares none (a GeoJSON in metres: `"EPSG:4549"`)',
            "—",
        ),
        "id": (
            "columns naming each road in `planned_road_joins.csv`, `planned_network.gpkg` and on the map",
            "row number",
        ),
        "name": (
            "columns naming each road in `planned_road_joins.csv`, `planned_network.gpkg` and on the map",
            "row number",
        ),
        "grade": (
            "column with each road's vertical level: 0 at grade, 1 a bridge, -1 a tunnel (no junction where it crosses, no building enters it from its side)",
            "the `bridge`, `tunnel`, `layer` columns",
        ),
        "encoding": (
            "text encoding of a shapefile's attributes",
            "guessed",
        ),
        "layer": (
            'the layer to read from a GeoPackage or an ArcGIS File Geodatabase (`path = "基础数据.gdb"`, a folder) holding several; without it a file of several layers stops with their names',
            "the only layer",
        ),
        **_CAD_KEYS,
    },
    "planned.residents": {
        "path": (
            "as in `[residents]`, for the planned buildings' own columns (楼号, 户数, 人口, 60岁以上人口)",
            "—",
        ),
        "id": (
            "as in `[residents]`, for the planned buildings' own columns (楼号, 户数, 人口, 60岁以上人口)",
            "—",
        ),
        "elderly": (
            "as in `[residents]`, for the planned buildings' own columns (楼号, 户数, 人口, 60岁以上人口)",
            "—",
        ),
        "households": (
            "as in `[residents]`, for the planned buildings' own columns (楼号, 户数, 人口, 60岁以上人口)",
            "—",
        ),
        "villagers": (
            "as in `[residents]`, for the planned buildings' own columns (楼号, 户数, 人口, 60岁以上人口)",
            "—",
        ),
        "renters": (
            "as in `[residents]`, for the planned buildings' own columns (楼号, 户数, 人口, 60岁以上人口)",
            "—",
        ),
        "community": (
            "as in `[residents]`, for the planned buildings' own columns (楼号, 户数, 人口, 60岁以上人口)",
            "—",
        ),
        "crs": (
            "as in `[residents]`, for the planned buildings' own columns (楼号, 户数, 人口, 60岁以上人口)",
            "—",
        ),
        "lon": (
            "as in `[residents]`, for the planned buildings' own columns (楼号, 户数, 人口, 60岁以上人口)",
            "—",
        ),
        "lat": (
            "as in `[residents]`, for the planned buildings' own columns (楼号, 户数, 人口, 60岁以上人口)",
            "—",
        ),
        "sheet": (
            "as in `[residents]`, for the planned buildings' own columns (楼号, 户数, 人口, 60岁以上人口)",
            "—",
        ),
        "encoding": (
            "as in `[residents]`, for the planned buildings' own columns (楼号, 户数, 人口, 60岁以上人口)",
            "—",
        ),
        "population": (
            "column of persons per building; may be left out when `households` and `household_size` are given",
            "—",
        ),
        "household_size": (
            "persons per household (规划建议值, your estimate): persons = households × size where there is no `population`, households = persons ÷ size where there is no `households`; named in each building's `note`",
            "none",
        ),
        "elderly_share": (
            "share aged 60+ (规划建议值) where there is no `elderly` column; named in each building's `note`",
            "none",
        ),
    },
    "planned.facilities": {
        "path": (
            "the planned facilities: any format `[facilities]` reads, with its keys for the planned file's own columns",
            "—",
        ),
    },
    "planned.communities": {
        "path": (
            "the site boundary's own columns",
            "—",
        ),
        "id": (
            "the site boundary's own columns",
            "—",
        ),
        "name": (
            "the site boundary's own columns",
            "—",
        ),
        "crs": (
            "the site boundary's own columns",
            "—",
        ),
        "encoding": (
            "the site boundary's own columns",
            "—",
        ),
        "layer": (
            'the layer to read from a GeoPackage or an ArcGIS File Geodatabase (`path = "基础数据.gdb"`, a folder) holding several; without it a file of several layers stops with their names',
            "the only layer",
        ),
        **_DATABASE_KEYS,
    },
    "siting": {
        "k": (
            "most new sites suggested per category that misses its target",
            "3",
        ),
        "candidates": (
            "candidate parcels or points (a `candidate` column names them); otherwise street nodes inside the communities or within 5 m of one (a boundary drawn along street centre lines has its junctions on it); fewer candidates than `k` is said, with this fix",
            "nodes",
        ),
        "spacing_m": (
            "thinning of node candidates: one per grid cell of this size, the node where most streets meet (a junction, e.g. a planned road's T, before a bend or a dead end)",
            "100",
        ),
        "solver": (
            '`"both"` (greedy and exact, both objectives reported), `"greedy"` or `"exact"`',
            '`"both"`',
        ),
        "max_exact": (
            "most candidates handed to the integer program (CBC)",
            "3000",
        ),
        "time_limit_s": (
            'CBC\'s time limit per integer program; a solve it stops is reported as "best found", not "exact"',
            "120",
        ),
    },
    "sweep": {
        "minutes": (
            "walking minutes to try, each applied to every category (`cjgis sweep`)",
            "—",
        ),
        "walk_speed_m_s": (
            "walking speeds to try, m/s",
            "—",
        ),
        "target_share": (
            "target shares to try",
            "—",
        ),
    },
    "map": {
        "basemap": (
            '`"osm"` (OpenStreetMap), `"none"` (vector streets only), `"tianditu"` (天地图, needs `tianditu_key`) or `"amap"` (高德; every layer is shifted to GCJ-02 for display)',
            '`"osm"`',
        ),
        "tianditu_key": (
            "your Tianditu API key (天地图 tk)",
            "—",
        ),
        "self_contained": (
            "embed Leaflet in the HTML so it opens with no internet (tiles still need a network or an intranet tile server)",
            "true",
        ),
        "water": (
            "rivers, lakes, rail or other barriers (any vector layer), drawn light blue on the map and the figures: the cause of a gap made visible",
            "—",
        ),
        "water_layer": (
            'the layer of `water` to draw, where the file holds several (a `.gdb` or GeoPackage: `water_layer = "水系"`); without it such a file stops with their names',
            "the only layer",
        ),
    },
}
#: Sections whose keys not described in their own table mean what they mean in another.
AS_IN = {
    "residents_outside": "residents",
    "planned.residents": "residents",
    "planned.facilities": "facilities",
}
