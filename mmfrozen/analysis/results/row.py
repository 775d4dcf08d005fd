"""One line of the results table: a run's facts, the measured cost of its config, its twin."""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .comparison import TwinComparison
from .run_summary import RunSummary


@dataclass
class Row:
    """One line of the table: a run's facts, the measured cost of its config, its twin.

    Attributes:
        summary: What the run's logs and config say (:mod:`.run_summary`).
        cost: The config's entry of a merged training-cost JSON ({} when none).
        twin: The comparison with its fine-tuned twin; None when it has none.
        twin_rows: The twin's runs it was compared with (same training data and budget, last
            evaluated at the same point); empty without a twin.
        config_file: The config file of the run's name under the table's config root.
    """
    summary: RunSummary
    cost: Dict[str, Any] = field(default_factory=dict)
    twin: Optional[TwinComparison] = None
    twin_rows: List['Row'] = field(default_factory=list)
    config_file: Optional[str] = None

    @property
    def trainable_params(self) -> Optional[int]:
        """Counted on the run's config, else as the cost measurement counted them."""
        return self._params('trainable_params')

    @property
    def total_params(self) -> Optional[int]:
        """Counted on the run's config, else as the cost measurement counted them."""
        return self._params('total_params')

    def _params(self, key: str) -> Optional[int]:
        counted = getattr(self.summary, key)
        measured = self.cost.get(key)
        return counted if counted is not None else None if measured is None else int(measured)
