"""Outputs: what a planner carries into a review meeting.

``report`` writes the tables and GeoPackage layers, ``scorecard`` the workbook and the
terminal table, ``figures`` the printable figures, ``maps`` the self-contained HTML map,
``deliverables`` all of them at once.

Imports: ``judge`` and the wings below it.
"""
