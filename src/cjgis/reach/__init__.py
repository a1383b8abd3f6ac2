"""Reach: walking distances and service areas on a network.

``access`` runs one multi-source Dijkstra per category, ``service_areas`` draws what is
reached (exact partial edges, rasterised for a city), ``partition`` runs the same searches
tile by tile on Dask workers with identical results.

Imports: ``streets``, ``inputs`` and the private helpers.
"""
