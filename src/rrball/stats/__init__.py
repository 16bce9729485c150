"""Statistics layer: pure functions, results checked against R (see ``tests/stats``)."""

from rrball.stats.kaplan_meier import KaplanMeierResult, kaplan_meier
from rrball.stats.logrank import LogRankResult, logrank_test

__all__ = ["KaplanMeierResult", "LogRankResult", "kaplan_meier", "logrank_test"]
