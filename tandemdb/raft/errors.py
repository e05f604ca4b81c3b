"""Errors a proposal can fail with at once, each distinct so that a client knows whether to retry elsewhere."""


class ProposalDroppedError(Exception):
    """Base class: the proposal was not appended to any log and can safely be retried."""


class NoLeaderError(ProposalDroppedError):
    def __init__(self) -> None:
        super().__init__("no leader is known; retry after an election")


class NotLeaderError(ProposalDroppedError):
    def __init__(self, leader: int) -> None:
        super().__init__(f"this node is not the leader; the leader is node {leader}")
        self.leader = leader


class LeaderTransferringError(ProposalDroppedError):
    def __init__(self, target: int) -> None:
        super().__init__(f"leadership is being transferred to node {target}")
        self.target = target


class TooManyUncommittedError(ProposalDroppedError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes of proposals are uncommitted; slow down")
        self.limit = limit


class ConfChangePendingError(ProposalDroppedError):
    def __init__(self) -> None:
        super().__init__("a membership change is still being applied; propose the next one after it")


class NotVoterError(ProposalDroppedError):
    def __init__(self) -> None:
        super().__init__("this node is not a voter of its configuration")
