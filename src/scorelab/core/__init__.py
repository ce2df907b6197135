"""The foundation: primitives every layer may use, importing nothing of scorelab but
:mod:`scorelab.exceptions`.

Numbers (logit, sigmoid and AUC, one home each), the score scale (probability -> points
-> category), the one JSON policy, one-line messages, and progress hooks.
"""
