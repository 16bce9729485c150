"""Statistics layer: pure functions, results checked against R (see ``tests/stats``)."""

from rrball.stats.competing_risks import CumulativeIncidenceResult, cumulative_incidence
from rrball.stats.contingency import (
    ChiSquareResult,
    FisherExactResult,
    chi_square_test,
    fisher_exact_test,
)
from rrball.stats.counting_process import counting_process
from rrball.stats.cox import CoxResult, PHTestResult, TestStatistic, cox_ph
from rrball.stats.fine_gray import FineGrayResult, fine_gray
from rrball.stats.follow_up import FollowUpResult, median_follow_up
from rrball.stats.gray_test import GrayTestResult, gray_test
from rrball.stats.kaplan_meier import KaplanMeierResult, kaplan_meier
from rrball.stats.landmark import LandmarkData, landmark
from rrball.stats.logistic import LogisticResult, logistic_regression
from rrball.stats.logrank import LogRankResult, logrank_test
from rrball.stats.proportions import ProportionResult, proportion_ci
from rrball.stats.rmst import RMSTResult, restricted_mean_survival_time
from rrball.stats.screening import ScreenResult, univariable_screen
from rrball.stats.table_one import TableOneResult, table_one

__all__ = [
    "ChiSquareResult",
    "CoxResult",
    "CumulativeIncidenceResult",
    "FineGrayResult",
    "FisherExactResult",
    "FollowUpResult",
    "GrayTestResult",
    "KaplanMeierResult",
    "LandmarkData",
    "LogRankResult",
    "LogisticResult",
    "PHTestResult",
    "ProportionResult",
    "RMSTResult",
    "ScreenResult",
    "TableOneResult",
    "TestStatistic",
    "chi_square_test",
    "counting_process",
    "cox_ph",
    "cumulative_incidence",
    "fine_gray",
    "fisher_exact_test",
    "gray_test",
    "kaplan_meier",
    "landmark",
    "logistic_regression",
    "logrank_test",
    "median_follow_up",
    "proportion_ci",
    "restricted_mean_survival_time",
    "table_one",
    "univariable_screen",
]
