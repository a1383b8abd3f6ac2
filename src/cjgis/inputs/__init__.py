"""Inputs: the files a planner brings, read and checked (the bottom wing).

``io`` reads communities, residents and facilities (GeoPackage, Shapefile, GeoJSON, CSV,
Excel) into :class:`~cjgis.inputs.io.Layer` objects with every rejected row and its reason;
``_validate`` holds the checks and error messages, ``coords`` the CRS handling (GCJ-02,
BD-09, metric zones), ``categories`` the catalogue of facility kinds and how text maps to
them, ``demand`` residents from rasters, community totals or outside their community, and
``sample`` the generated demo district.

Imports: the private helpers only (``cjgis._errors``, ``_atomic``, ``_fork``, ``_geometry``).
"""
