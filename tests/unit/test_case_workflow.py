"""The case workflow as a state machine, and the case rule file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.case_config import CaseConfigError, load_case_config, parse_case_config
from domain.cases import (
    ACTION_NEEDS,
    CaseAction,
    CaseSource,
    CaseState,
    InvalidTransition,
    MissingField,
    actions_from,
    plan,
)
from domain.permissions import Action

A, S = CaseAction, CaseState
HAPPY = [
    (A.ACCEPT, S.ACCEPTED),
    (A.DISPATCH, S.DISPATCHED),
    (A.START, S.HANDLING),
    (A.FEEDBACK, S.FEEDBACK),
    (A.VERIFY, S.VERIFIED),
    (A.CLOSE, S.CLOSED),
    (A.EVALUATE, S.EVALUATED),
]


def test_the_happy_path_visits_every_state_in_order() -> None:
    state = S.COLLECTED
    for action, expected in HAPPY:
        state = plan(state, action, source=CaseSource.GRID_REPORT).to_state
        assert state is expected


@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("action", list(CaseAction))
def test_every_pair_outside_the_workflow_is_refused_with_the_allowed_steps(state: S, action: A) -> None:
    allowed = actions_from(state)
    kwargs = {"reason": "why", "satisfaction": 4}
    if action in allowed:
        assert plan(state, action, source=CaseSource.HOTLINE, **kwargs).from_state is state
        return
    with pytest.raises(InvalidTransition) as err:
        plan(state, action, source=CaseSource.HOTLINE, **kwargs)
    assert f"cannot {action.value} a case that is {state.value}" in str(err.value)
    for a in allowed:
        assert a.value in str(err.value)


def test_final_states_allow_nothing() -> None:
    assert actions_from(S.EVALUATED) == () and actions_from(S.REJECTED) == ()


@pytest.mark.parametrize(
    ("state", "action"), [(S.COLLECTED, A.REJECT), (S.DISPATCHED, A.REASSIGN), (S.FEEDBACK, A.REOPEN)]
)
def test_steps_that_change_someones_work_need_a_reason(state: S, action: A) -> None:
    with pytest.raises(MissingField, match="needs a reason"):
        plan(state, action, source=CaseSource.GRID_REPORT, reason="  ")
    assert plan(state, action, source=CaseSource.GRID_REPORT, reason="wrong grid").action is action


def test_reassigning_to_the_same_place_is_refused() -> None:
    with pytest.raises(MissingField, match="another grid or department"):
        plan(S.HANDLING, A.REASSIGN, source=CaseSource.GRID_REPORT, reason="x", target_changes=False)
    assert plan(S.HANDLING, A.REASSIGN, source=CaseSource.GRID_REPORT, reason="x").to_state is S.DISPATCHED


def test_a_failed_verification_reopens_the_case() -> None:
    step = plan(S.FEEDBACK, A.REOPEN, source=CaseSource.HOTLINE, reason="still broken")
    assert step.to_state is S.HANDLING and step.reopens
    assert not plan(S.FEEDBACK, A.VERIFY, source=CaseSource.HOTLINE).reopens


def test_hotline_cases_are_evaluated_with_the_citizens_satisfaction() -> None:
    with pytest.raises(MissingField, match="satisfaction"):
        plan(S.CLOSED, A.EVALUATE, source=CaseSource.HOTLINE)
    assert plan(S.CLOSED, A.EVALUATE, source=CaseSource.GRID_REPORT).to_state is S.EVALUATED
    for bad in (0, 6, -1):
        with pytest.raises(MissingField, match="1 to 5"):
            plan(S.CLOSED, A.EVALUATE, source=CaseSource.HOTLINE, satisfaction=bad)
    assert plan(S.CLOSED, A.EVALUATE, source=CaseSource.HOTLINE, satisfaction=5).to_state is S.EVALUATED


def test_handlers_handle_and_the_center_does_the_rest() -> None:
    handler = {a for a, need in ACTION_NEEDS.items() if need is Action.HANDLE_CASE}
    assert handler == {A.START, A.FEEDBACK}
    assert set(ACTION_NEEDS) == set(CaseAction)


def test_the_shipped_rule_file_loads_with_departments_and_deadlines() -> None:
    cfg = load_case_config()
    assert len(cfg.categories) >= 10
    fire = cfg.category("fire_hazard")
    t0 = datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert fire.due(S.HANDLING, t0) == t0 + timedelta(hours=12)
    assert fire.due(S.COLLECTED, t0) == t0 + timedelta(hours=1)
    assert cfg.category("dispute").due(S.HANDLING, t0) == t0 + timedelta(hours=72)  # the default
    assert fire.due(S.EVALUATED, t0) is None
    assert cfg.department_of("noise").code == "ecology"
    for c in cfg.categories:
        assert c.department in cfg.departments
        assert all(c.limit(s) is not None for s in (S.COLLECTED, S.HANDLING, S.CLOSED))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[category]\n", "not valid TOML"),
        ("", "declares no"),
        (
            '[departments]\nx = {zh="a", en="b"}\n[[category]]\nservice_code="c"\nzh="c"\nen="c"\ndepartment="y"\n',
            "unknown department",
        ),
        ("[deadlines]\nhandling = -1\n", "positive number"),
        ("[deadlines]\nevaluated = 3\n", "final state"),
        ("[deadlines]\nlunch = 3\n", "not a timed state"),
        ('[departments]\nx = {zh="a", en="b"}\n[[category]]\nzh="c"\nen="c"\ndepartment="x"\n', "service_code"),
    ],
)
def test_a_bad_rule_file_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(CaseConfigError, match=message):
        parse_case_config(text)


def test_a_category_declared_twice_is_refused() -> None:
    one = '[[category]]\nservice_code="c"\nzh="c"\nen="c"\ndepartment="x"\n'
    with pytest.raises(CaseConfigError, match="twice"):
        parse_case_config('[departments]\nx = {zh="a", en="b"}\n' + one + one)
