"""Self-tests of the chaos harness's checkers: hand-made bad histories (a stale read, a lost write, a dirty read,
a write cycle, ...) are flagged by the right checker, through the same path a run uses (each workload's
``check_history`` on chaos ``Op``s); the matching good histories pass."""

from __future__ import annotations

from tandemdb.chaos.workloads import append, bank, register
from tandemdb.checker.history import Op, from_jsonl, to_jsonl

BUDGET_S = 10.0


def op(id, f, invoke, complete, *, status="ok", key=None, value=None, output=None, process=None):
    return Op(id=id, process=id if process is None else process, f=f, key=key, value=value, output=output,
              status=status, invoke=invoke, complete=complete)  # fmt: skip


# --- register: linearizability ---------------------------------------------------------------------------------


def test_good_register_history_is_linearizable():
    ops = [
        op(0, "write", 0.0, 1.0, key="k", value=1),
        op(1, "read", 0.5, 1.5, key="k", output=1),
        op(2, "cas", 2.0, 3.0, key="k", value=[1, 2], output=True),
        op(3, "write", 2.5, 9.0, key="k", value=3, status="info"),
        op(4, "read", 4.0, 5.0, key="k", output=2),
    ]
    result = register.check_history(ops, BUDGET_S)
    assert result["valid"] is True and result["checker"] == "linearizability"


def test_stale_read_is_not_linearizable():
    # The write of 2 completed before the read began, yet the read returned the old value.
    ops = [
        op(0, "write", 0.0, 1.0, key="k", value=1),
        op(1, "write", 2.0, 3.0, key="k", value=2),
        op(2, "read", 4.0, 5.0, key="k", output=1, process=7),
    ]
    result = register.check_history(ops, BUDGET_S)
    assert result["valid"] is False
    assert result["failures"] == ["k"]
    assert 2 in result["ops"] and "op 2" in result["explanation"]


def test_lost_write_is_not_linearizable():
    # An acknowledged write that no later read sees: the register went back to the value before it.
    ops = [
        op(0, "write", 0.0, 1.0, key="k", value=1),
        op(1, "write", 2.0, 3.0, key="k", value=2),
        op(2, "read", 4.0, 5.0, key="k", output=2),
        op(3, "read", 6.0, 7.0, key="k", output=1),
    ]
    result = register.check_history(ops, BUDGET_S)
    assert result["valid"] is False and 3 in result["ops"]


def test_register_keys_are_checked_apart():
    ops = [
        op(0, "write", 0.0, 1.0, key="a", value=1),
        op(1, "write", 0.0, 1.0, key="b", value=1),
        op(2, "read", 2.0, 3.0, key="a", output=None),
    ]
    result = register.check_history(ops, BUDGET_S)
    assert result["valid"] is False and result["failures"] == ["a"] and result["keys_checked"] == 2


# --- bank --------------------------------------------------------------------------------------------------------


def balances(*values):
    return {bank.account_key(i): v for i, v in enumerate(values)}


def test_good_bank_reads_pass():
    ops = [
        op(0, "read", 0, 1, output=balances(20, 20, 20, 20, 20)),
        op(1, "transfer", 1, 2, value={"from": bank.account_key(0), "to": bank.account_key(1), "amount": 5}),
        op(2, "read", 3, 4, output=balances(15, 25, 20, 20, 20)),
        op(3, "read", 3, 4, status="fail", output=None),
    ]
    assert bank.check_history(ops)["valid"] is True


def test_bank_lost_write_changes_the_total():
    # The debit of a transfer was applied, its credit lost.
    ops = [op(0, "read", 0, 1, output=balances(15, 20, 20, 20, 20))]
    result = bank.check_history(ops)
    assert result["valid"] is False
    assert result["ops"] == [0] and "total 95, expected 100" in result["explanation"]


def test_bank_negative_and_missing_accounts_are_flagged():
    missing = {bank.account_key(i): 25 for i in range(4)}
    ops = [op(0, "read", 0, 1, output=balances(-5, 25, 20, 30, 30)), op(1, "read", 0, 1, output=missing)]
    result = bank.check_history(ops)
    assert result["bad_count"] == 2
    problems = {b["op"]: " ".join(b["problems"]) for b in result["bad_reads"]}
    assert "negative balance" in problems[0] and "accounts missing" in problems[1]


# --- list-append: Elle --------------------------------------------------------------------------------------------


def txn(id, invoke, complete, *mops, status="ok"):
    return op(id, "txn", invoke, complete, status=status, value=[[f, k, None if f == "r" else v] for f, k, v in mops],
              output=[list(m) for m in mops] if status == "ok" else None)  # fmt: skip


def anomalies(ops):
    result = append.check_history(ops)
    return result, set(result["anomaly_types"])


def test_good_append_history_is_valid():
    ops = [
        txn(0, 0, 1, ("append", "x", 1), ("append", "y", 1)),
        txn(1, 2, 3, ("r", "x", [1]), ("append", "x", 2)),
        txn(2, 4, 5, ("r", "x", [1, 2]), ("r", "y", [1])),
        txn(3, 4, 9, ("append", "y", 2), status="info"),
        txn(4, 6, 7, ("r", "y", [1])),  # the info append had not happened yet: concurrent, allowed
    ]
    result, found = anomalies(ops)
    assert result["valid"] is True and not found


def test_dirty_read_is_g1a():
    ops = [txn(0, 0, 1, ("append", "x", 1), status="fail"), txn(1, 2, 3, ("r", "x", [1]))]
    result, found = anomalies(ops)
    assert found == {"G1a"}
    (anomaly,) = result["anomalies"]
    assert anomaly["ops"] == [0, 1] and "failed" in anomaly["explanation"]


def test_write_cycle_is_g0():
    # T0 appended to x before T1, but T1 appended to y before T0.
    ops = [
        txn(0, 0, 1, ("append", "x", 1), ("append", "y", 2)),
        txn(1, 0, 1, ("append", "x", 2), ("append", "y", 1)),
        txn(2, 2, 3, ("r", "x", [1, 2]), ("r", "y", [1, 2])),
    ]
    result, found = anomalies(ops)
    assert "G0" in found
    g0 = next(a for a in result["anomalies"] if a["type"] == "G0")
    assert sorted(g0["ops"]) == [0, 1] and "-ww->" in g0["explanation"]


def test_intermediate_read_is_g1b():
    ops = [
        txn(0, 0, 1, ("append", "x", 1), ("append", "x", 2)),
        txn(1, 0, 1, ("r", "x", [1])),
    ]
    assert "G1b" in anomalies(ops)[1]


def test_circular_information_flow_is_g1c():
    # Each transaction read the other's append.
    ops = [
        txn(0, 0, 1, ("append", "x", 1), ("r", "y", [1])),
        txn(1, 0, 1, ("append", "y", 1), ("r", "x", [1])),
    ]
    assert "G1c" in anomalies(ops)[1]


def test_write_skew_is_g2_and_a_lost_update_is_g_single():
    skew = [
        txn(0, 0, 1, ("r", "x", []), ("append", "y", 1)),
        txn(1, 0, 1, ("r", "y", []), ("append", "x", 1)),
        txn(2, 2, 3, ("r", "x", [1]), ("r", "y", [1])),
    ]
    assert anomalies(skew)[1] == {"G2"}
    lost_update = [
        txn(0, 0, 1, ("r", "x", []), ("append", "x", 1)),
        txn(1, 0, 1, ("r", "x", []), ("append", "x", 2)),
        txn(2, 2, 3, ("r", "x", [1, 2])),
    ]
    assert "G-single" in anomalies(lost_update)[1]


def test_stale_read_of_a_list_is_a_realtime_anomaly():
    ops = [txn(0, 0, 1, ("append", "x", 1)), txn(1, 2, 3, ("r", "x", [])), txn(2, 4, 5, ("r", "x", [1]))]
    result, found = anomalies(ops)
    assert found == {"G-single-realtime"}
    assert "completed before" in result["explanation"]


def test_acknowledged_append_that_no_read_sees_is_lost():
    ops = [txn(0, 0, 1, ("append", "x", 1)), txn(1, 0, 1, ("append", "x", 2)), txn(2, 4, 5, ("r", "x", [2]))]
    result, found = anomalies(ops)
    assert found == {"lost-append"}
    assert result["anomalies"][0]["ops"] == [0, 2]


def test_reads_that_disagree_are_an_incompatible_order():
    ops = [
        txn(0, 0, 1, ("append", "x", 1)),
        txn(1, 0, 1, ("append", "x", 2)),
        txn(2, 2, 3, ("r", "x", [1, 2])),
        txn(3, 2, 3, ("r", "x", [2, 1])),
    ]
    assert "incompatible-order" in anomalies(ops)[1]


def test_internal_inconsistency():
    ops = [txn(0, 0, 1, ("append", "x", 1), ("r", "x", []))]
    assert "internal" in anomalies(ops)[1]


# --- the history file ---------------------------------------------------------------------------------------------


def test_history_round_trips_through_jsonl():
    ops = [txn(0, 0, 1, ("append", "x", 1)), op(1, "read", 0.5, 0.7, key="k", output=None, status="fail")]
    ops[1].error = "ClusterUnavailableError: no endpoint"
    assert from_jsonl(to_jsonl(ops)) == ops
