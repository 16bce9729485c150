"""Study layer: declarative plans, their runner and the published-table consistency checker.

Submodules are imported explicitly (``from rrball.study.consistency import check_publication``)
so that importing :mod:`rrball.study` stays light.
"""

__all__: list[str] = []
