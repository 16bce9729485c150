"""Statistics layer: pure functions, results checked against R (see ``tests/stats``)."""

from rrball.stats.kaplan_meier import KaplanMeierResult, kaplan_meier

__all__ = ["KaplanMeierResult", "kaplan_meier"]
