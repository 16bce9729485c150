"""Clinical rules: regimens, doses, calendars, response and toxicity (pure functions).

Research tool, not for clinical dosing decisions.
"""

__all__: list[str] = []
