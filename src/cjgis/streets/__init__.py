"""Streets: the walking network and how points reach it.

``sources`` reads street files and downloads (GraphML, OSM extracts, road lines), ``graphml``
streams GraphML into arrays, ``road_lines`` nodes a design institute's lines and merges planned
roads, ``network`` holds the :class:`~cjgis.streets.network.Network` arrays and the walk filter,
``cache`` keeps built networks on disk, ``snapping`` attaches points to the nearest edge.

Imports: ``inputs`` and the private helpers.
"""
