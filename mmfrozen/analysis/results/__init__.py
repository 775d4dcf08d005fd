"""The results table: run facts from work dirs, twin comparisons, markdown/CSV, plots."""
from .row import Row
from .table import ResultsTable

__all__ = ['ResultsTable', 'Row']
