"""rrball: real-world studies of immunotherapy in relapsed/refractory B-cell ALL.

Research tool, not for clinical dosing decisions. Import the layers you need
(``rrball.stats``, ...); this module deliberately imports nothing heavy.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
