"""File readers and writers of the cohort model (the only filesystem code of rrball.cohort).

data-dictionary.md §1 "Files": a CSV folder (one ``<table>.csv`` per table plus ``metadata.csv``)
or an XLSX workbook (one sheet per table). Readers return ``RawTable``s of text cells with their
source rows; all checking happens in ``rrball.cohort.validation``.
"""

from rrball.cohort.readers.csv import read_csv_folder, write_csv_folder
from rrball.cohort.readers.xlsx import read_xlsx, write_xlsx

__all__ = ["read_csv_folder", "read_xlsx", "write_csv_folder", "write_xlsx"]
