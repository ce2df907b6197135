"""The ``scorelab`` command: the error boundary (one line per user mistake, the exit
codes), and how progress and tables show on a terminal.

Imports only :mod:`scorelab.api` and the foundation: every command is a call of the
Python API.
"""
