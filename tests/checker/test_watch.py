"""The watch checker: order, no duplicate, agreement between watchers, and no gap within a watcher's range."""

from __future__ import annotations

from tandemdb.checker.watch import WatchLog, check


def log(name: str, start: int, covered: int, revs: list[int], value: str = "v") -> WatchLog:
    return WatchLog(name, start, covered, [(r, "k", f"{value}{r}") for r in revs])


def test_watchers_that_agree_pass() -> None:
    res = check([log("a", 1, 5, [1, 2, 3, 4, 5]), log("b", 3, 5, [3, 4, 5]), log("c", 1, 2, [1, 2])])
    assert res.valid, res.describe()
    assert res.revisions == 5


def test_revisions_without_events_are_no_gap() -> None:
    # Revision 3 touched no watched key: nobody saw it.
    assert check([log("a", 1, 5, [1, 2, 4, 5]), log("b", 1, 5, [1, 2, 4, 5])]).valid


def test_a_skipped_revision_that_another_watcher_saw_is_a_gap() -> None:
    res = check([log("a", 1, 5, [1, 2, 4, 5]), log("b", 1, 5, [1, 2, 3, 4, 5])])
    assert not res.valid
    assert "watch gap: watcher a skipped revision 3 (seen by watcher b) within the range it covered [1, 5]" in (
        res.describe()
    )


def test_a_revision_outside_a_watchers_range_is_no_gap() -> None:
    # a started at 4; c's stream only reached revision 2.
    assert check([log("a", 4, 5, [4, 5]), log("b", 1, 5, [1, 2, 3, 4, 5]), log("c", 1, 2, [1, 2])]).valid


def test_the_covered_revision_extends_the_range() -> None:
    # a was told the stream reached 5 but got nothing after 2: it missed 3, 4 and 5.
    res = check([log("a", 1, 5, [1, 2]), log("b", 1, 5, [1, 2, 3, 4, 5])])
    assert res.count == 3 and "skipped revision 3" in res.describe() and "skipped revision 4" in res.describe()


def test_out_of_order_and_duplicates_are_caught() -> None:
    res = check([log("a", 1, 3, [1, 3, 2])])
    assert not res.valid and "watch order: watcher a got revision 2 after revision 3" in res.describe()
    res = check([log("a", 1, 3, [1, 2, 2, 3])])
    assert not res.valid and "watch duplicate: watcher a got revision 2 twice" in res.describe()
    res = check([log("a", 1, 3, [1, 2, 3, 2])])
    assert not res.valid and "watch order" in res.describe()


def test_several_events_of_one_revision_are_no_duplicate() -> None:
    a = WatchLog("a", 1, 2, [(1, "x", "1"), (1, "y", "1"), (2, "x", "2")])
    b = WatchLog("b", 1, 2, [(1, "x", "1"), (1, "y", "1"), (2, "x", "2")])
    assert check([a, b]).valid


def test_watchers_that_disagree_on_a_revision_are_caught() -> None:
    res = check([log("a", 1, 3, [1, 2, 3]), log("b", 1, 3, [1, 2, 3], value="w")])
    assert not res.valid and "watch disagreement: at revision 1 watcher a got" in res.describe()


def test_an_event_before_the_start_is_caught() -> None:
    res = check([log("a", 3, 4, [2, 3, 4])])
    assert not res.valid and "before its start 3" in res.describe()
