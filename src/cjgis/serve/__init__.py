"""Serve: the what-if as a local web app for the review meeting (``cjgis serve``).

``sessions`` keeps each browser tab's edits and says what its page shows (every number from
:func:`cjgis.plan.whatif.what_if`); ``app`` is the ASGI application (FastAPI) with the page in
``static/`` and a small JSON API. An optional extra: ``pip install "cjgis[serve]"``.
"""
