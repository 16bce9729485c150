"""Statistics layer: pure functions, results checked against R (see ``tests/stats``)."""

from rrball.stats.follow_up import FollowUpResult, median_follow_up
from rrball.stats.kaplan_meier import KaplanMeierResult, kaplan_meier
from rrball.stats.landmark import LandmarkData, landmark
from rrball.stats.logrank import LogRankResult, logrank_test
from rrball.stats.rmst import RMSTResult, restricted_mean_survival_time

__all__ = [
    "FollowUpResult",
    "KaplanMeierResult",
    "LandmarkData",
    "LogRankResult",
    "RMSTResult",
    "kaplan_meier",
    "landmark",
    "logrank_test",
    "median_follow_up",
    "restricted_mean_survival_time",
]
