"""The report's sections, in page order; each returns a Section, or None when the run
has nothing for it (the summary's "Not in this run" list says why)."""

from scorelab.report.sections.accuracy import accuracy
from scorelab.report.sections.age import age
from scorelab.report.sections.appendix import appendix
from scorelab.report.sections.explanations import explanations
from scorelab.report.sections.fairness import fairness
from scorelab.report.sections.lda import lda
from scorelab.report.sections.mitigation import mitigation
from scorelab.report.sections.overview import overview
from scorelab.report.sections.policy import policy
from scorelab.report.sections.practice import practice
from scorelab.report.sections.reasons import reasons
from scorelab.report.sections.study import study
from scorelab.report.sections.tuning import tuning
from scorelab.report.sections.validity import validity

SECTIONS = (overview, study, accuracy, tuning, practice, explanations, reasons, fairness, age,
            validity, mitigation, lda, policy, appendix)

__all__ = ["SECTIONS"]
