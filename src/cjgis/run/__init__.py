"""Run: a study file, read and run (the top wing, below only the command line).

``study`` parses the TOML study file, ``runner`` reads what it names (network, layers) and
runs the analysis, ``site`` the as-is / as-planned study of a new site, ``batch`` and
``sweep`` many studies or settings.

Imports: every wing below.
"""
