"""The results table: run facts from work dirs, twin comparisons, markdown/CSV, plots."""
from .table import ResultsTable, Row

__all__ = ['ResultsTable', 'Row']
