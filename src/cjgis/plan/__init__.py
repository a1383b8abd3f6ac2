"""Plan: the planner's questions about what to build.

``siting`` suggests sites (greedy and exact max-cover and set cover), ``scenario`` compares
as-is and as-planned, ``whatif`` adds, moves and removes facilities incrementally,
``whatif_map`` does so in a notebook widget.

Imports: ``outputs``, ``judge`` and the wings below.
"""
