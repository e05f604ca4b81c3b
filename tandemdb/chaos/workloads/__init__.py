"""The workloads of ``tandem chaos`` by name (``--workload``)."""

from .append import Append
from .bank import Bank
from .base import Workload
from .register import Register

WORKLOADS: dict[str, type[Workload]] = {w.name: w for w in (Register, Bank, Append)}

__all__ = ["WORKLOADS", "Workload"]
