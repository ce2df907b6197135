"""The search for less discriminatory alternatives (``scorelab lda``).

Built on the study: imports every layer up to ``study`` (a search runs the study's folds
and plan, and writes an ordinary run directory).

space (the candidates) -> search (batches under the study's folds) -> disparity and
frontier (what is less discriminatory, within which tolerance) -> stopping (the
certificate) -> truthcheck (does it hold on a fresh population) -> verdict (adopt /
consider / none, one rule for every sentence) -> artifacts (``lda/``) -> command (the
study, with the chosen alternatives as models of the run).
"""

from scorelab.lda.command import lda
from scorelab.lda.search import LdaSearch, run_search

__all__ = ["LdaSearch", "lda", "run_search"]
