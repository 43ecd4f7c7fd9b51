"""The scoreboard's figures from a known set of facts: rates, empty denominators, the composite score."""

from __future__ import annotations

from datetime import date

import pytest

from domain.scoreboard import (
    COLUMNS,
    CaseFact,
    CheckinFact,
    Format,
    ScoreRow,
    ScoreWeights,
    Tally,
    VerificationFact,
    display,
    expected_checkins,
    load_weights,
    parse_weights,
    score,
    score_rows,
    sort_rows,
    tally_facts,
)
from runtime.scoreboard_service import BOM, Board, csv_text, safe_cell

D1, D2 = date(2026, 11, 20), date(2026, 11, 21)

CASES = [
    CaseFact("li", "g1", True, 0, 5),
    CaseFact("li", "g1", True, 1, 3),
    CaseFact("li", "g1", False, 0, None),
    CaseFact("li", "g1", None, 0, None),  # no deadline known: not in the on-time denominator
    CaseFact("wang", "g2", False, 2, 1),
]
VERIFICATIONS = [
    VerificationFact("li", "g1", "pass"),
    VerificationFact("li", "g1", "fail"),
    VerificationFact("li", "g1", "pass"),
    VerificationFact("zhao", "g3", "pass"),
]
CHECKINS = [
    CheckinFact("li", "g1", 1, D1),
    CheckinFact("li", "g1", 1, D1),  # a second visit the same day does not count (per_day 1)
    CheckinFact("li", "g1", 2, D1),
    CheckinFact("li", "g1", 1, D2),
]


def test_tallies_count_facts_per_person() -> None:
    t = tally_facts(CASES, VERIFICATIONS, CHECKINS, by_unit=False, per_day=1)
    assert t["li"] == Tally(
        cases_handled=4,
        on_time=2,
        timed=3,
        reopened=1,
        satisfaction_sum=8,
        satisfaction_n=2,
        verifications=3,
        verifications_passed=2,
        checkins=3,
    )
    assert t["wang"] == Tally(cases_handled=1, on_time=0, timed=1, reopened=1, satisfaction_sum=1, satisfaction_n=1)
    assert t["zhao"] == Tally(verifications=1, verifications_passed=1)
    two_a_day = tally_facts([], [], CHECKINS, by_unit=False, per_day=2)
    assert two_a_day["li"].checkins == 4


def test_tallies_by_unit_roll_grids_up_into_their_row() -> None:
    street = {"g1": "s1", "g2": "s1", "g3": "s2"}
    t = tally_facts(CASES, VERIFICATIONS, CHECKINS, by_unit=True, group=street.get, per_day=1)
    assert t["s1"].cases_handled == 5 and t["s1"].reopened == 2 and t["s1"].checkins == 3
    assert t["s2"] == Tally(verifications=1, verifications_passed=1)
    dropped = tally_facts(CASES, [], [], by_unit=True, group={"g1": "s1"}.get)
    assert set(dropped) == {"s1"} and dropped["s1"].cases_handled == 4  # g2 lies outside: not counted


def test_rows_give_rates_and_none_for_empty_denominators() -> None:
    tallies = tally_facts(CASES, VERIFICATIONS, CHECKINS, by_unit=False, per_day=1)
    for key, extra in expected_checkins({"li": 2, "wang": 0}, 2, 1).items():
        tallies[key] = tallies.get(key, Tally()) + extra
    tallies["idle"] = Tally()
    rows = {r.key: r for r in score_rows(tallies, {"li": "李四"}, ScoreWeights())}
    li = rows["li"]
    assert li.name == "李四" and rows["wang"].name == "wang"
    assert li.cases_handled == 4
    assert li.on_time_rate == pytest.approx(2 / 3)
    assert li.reopen_rate == pytest.approx(1 / 4)
    assert li.satisfaction == 4.0
    assert li.verification_rate == pytest.approx(2 / 3)
    assert (li.checkins_done, li.checkins_expected, li.checkin_rate) == (3, 4, 0.75)
    # 40·(2/3) + 30·(3/4) + 15·(3/4) + 15·(3/4), over 100
    assert li.score == pytest.approx(round(40 * 2 / 3 + 30 * 0.75 + 15 * 0.75 + 15 * 0.75, 1))
    wang = rows["wang"]
    assert wang.on_time_rate == 0.0 and wang.reopen_rate == 1.0 and wang.satisfaction == 1.0
    assert wang.verification_rate is None and wang.checkin_rate is None  # nothing expected: no fake 0 %
    assert wang.score == 0.0  # every part it has is at its worst
    idle = rows["idle"]
    assert (idle.on_time_rate, idle.reopen_rate, idle.satisfaction, idle.checkin_rate, idle.score) == (None,) * 5
    zhao = rows["zhao"]
    assert zhao.verification_rate == 1.0 and zhao.score is None  # verification weighs 0 by default


def test_score_reweights_over_the_parts_that_exist() -> None:
    w = ScoreWeights()
    assert score(1.0, 5.0, 0.0, 1.0, 0.0, w) == 100.0
    assert score(0.0, 1.0, 1.0, 0.0, 1.0, w) == 0.0
    assert score(0.5, None, None, None, None, w) == 50.0
    assert score(1.0, 1.0, None, None, None, w) == pytest.approx(round(100 * 40 / 70, 1))
    assert score(None, None, None, 3.0, None, w) == 100.0  # more check-ins than expected count as all
    assert score(None, None, None, None, None, w) is None
    only_verification = parse_weights({"on_time": 0, "satisfaction": 0, "reopen": 0, "checkins": 0, "verification": 1})
    assert score(1.0, 5.0, 0.0, 1.0, 0.25, only_verification) == 25.0


def test_weights_come_from_the_rule_file_and_are_checked() -> None:
    w = load_weights()
    assert (w.on_time, w.satisfaction, w.reopen, w.checkins, w.verification) == (40, 30, 15, 15, 0)
    assert w.pass_results == ("pass",)
    for bad in (
        {"on_time": -1},
        {"reopen": "x"},
        {"pass_results": "pass"},
        dict.fromkeys(("on_time", "satisfaction", "reopen", "checkins"), 0),
    ):
        with pytest.raises(ValueError, match=r"\[score\]"):
            parse_weights(bad)


def row(key: str, score_: float | None, cases: int = 0) -> ScoreRow:
    return ScoreRow(key, key, cases, None, None, None, None, 0, 0, None, score_)


def test_sorting_puts_rows_without_a_value_last_either_way() -> None:
    rows = [row("a", 50.0), row("b", None), row("c", 90.0), row("d", 50.0)]
    assert [r.key for r in sort_rows(rows, "score")] == ["c", "a", "d", "b"]
    assert [r.key for r in sort_rows(rows, "score", descending=False)] == ["a", "d", "c", "b"]
    assert [r.key for r in sort_rows(rows, "name", descending=False)] == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="sort"):
        sort_rows(rows, "password")


def test_display_and_csv() -> None:
    assert display(None, Format.PERCENT) == "—"
    assert display(2 / 3, Format.PERCENT) == "66.7%"
    assert display(0.0, Format.PERCENT) == "0.0%"
    assert display(3, Format.COUNT) == "3"
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and safe_cell("-1") == "'-1" and safe_cell("@x") == "'@x"
    assert safe_cell("+86") == "'+86" and safe_cell("—") == "—" and safe_cell("李四") == "李四"
    board = Board("worker", "c", D1, D2, "score", True, [row("=cmd", 80.0, 2), row("王五", None)])
    text = csv_text(board, "zh-CN")
    assert text.startswith(BOM)
    lines = text[1:].split("\r\n")
    assert lines[0].split(",") == [
        "账号",
        "姓名",
        "处置案件数",
        "按时处置率",
        "返工率",
        "平均满意度",
        "核查通过率",
        "已打卡",
        "应打卡",
        "打卡率",
        "综合得分",
    ]
    assert lines[1].startswith("'=cmd,'=cmd,2,—,")
    assert lines[1].endswith(",80.0") and lines[2].endswith(",—")
    assert csv_text(board, "en")[1:].startswith("User name,Name,Cases handled,On time")
    assert len(COLUMNS) == len(lines[0].split(","))
