"""The search for less discriminatory alternatives (``scorelab lda``, issue 17).

space (the candidates) -> search (batches under the study's folds) -> disparity and
frontier (what is less discriminatory, within which tolerance) -> stopping (the
certificate) -> truthcheck (does it hold on a fresh population) -> artifacts (``lda/``).
"""

from scorelab.lda.command import lda
from scorelab.lda.search import LdaSearch, run_search

__all__ = ["LdaSearch", "lda", "run_search"]
