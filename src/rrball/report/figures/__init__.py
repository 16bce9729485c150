"""Publication figures from rrball results (matplotlib ``Figure`` objects, no pyplot)."""

from rrball.report.figures.cif import cif_plot
from rrball.report.figures.forest import forest_plot
from rrball.report.figures.km import km_plot
from rrball.report.figures.response_bars import response_bars
from rrball.report.figures.swimmer import SWIMMER_KINDS, swimmer_plot

__all__ = ["SWIMMER_KINDS", "cif_plot", "forest_plot", "km_plot", "response_bars",
           "swimmer_plot"]
