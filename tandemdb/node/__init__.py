"""The node's logic as a sans-IO core: it hosts Raft groups, routes client requests, batches proposals,
applies committed commands and answers. Events go in (``Node.tick``, ``receive``, ``request``,
``persisted``); actions come out of ``Node.drain``. No clock, socket, thread or chance in here: the server
shell (and, later, the simulator) does the I/O.
"""

from .config import NodeConfig
from .node import Node, Output

__all__ = ["Node", "NodeConfig", "Output"]
