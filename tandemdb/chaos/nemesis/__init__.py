"""The nemeses of ``tandem chaos``, by family name (``--nemesis kill,partition,...``)."""

from .base import Context, Fault, Nemesis
from .clock import Clock
from .disk import Disk
from .link import Link
from .membership import Membership, Transfer, restore_membership
from .partition import Partition
from .process import Kill, Pause

NEMESES: dict[str, type[Nemesis]] = {
    n.name: n for n in (Kill, Pause, Partition, Clock, Link, Disk, Membership, Transfer)
}

__all__ = ["NEMESES", "Context", "Fault", "Nemesis", "restore_membership"]
