"""Everything checked against the planted truth of a synthetic population: what the
population model planted, the checks of every age analysis against it, and interval
coverage.

Imports the foundation, ``config``, ``data``, ``engine`` and the stages (evaluate,
explain, fairness); never ``runs``, ``study`` or above.
"""
