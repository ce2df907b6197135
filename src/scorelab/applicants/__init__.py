"""Serving people from a saved run: scoring new applicants (``score``), letters that
explain a decision (``explain``) and population stability (``stability``).

Reads a run directory through ``runs`` and its saved models; never trains. Imports the
layers below the study (the stages' explainers and metrics, ``runs``, ``models``).
"""
