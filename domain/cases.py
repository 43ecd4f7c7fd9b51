"""Cases: one workflow for every problem, from collection to evaluation, as an explicit state machine.

collected → accepted (立案) → dispatched (派遣) → handling (处置) → feedback (反馈) → verified (核查)
→ closed (结案) → evaluated (评价). A collected case that is not a case for the city is rejected
(不予立案); a feedback that fails verification goes back to handling (返工, counted as a re-open);
a dispatched or handling case may be reassigned to another grid or department. Steps that
change someone's work need a reason. Everything here is pure: the repository stores what
``plan`` allows, with who and when.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from domain.permissions import Action

__all__ = [
    "ACTION_NEEDS",
    "CENTER_STATES",
    "REASON_REQUIRED",
    "TERMINAL",
    "CaseAction",
    "CaseSource",
    "CaseState",
    "InvalidTransition",
    "MissingField",
    "StepPlan",
    "actions_from",
    "plan",
]


class CaseState(enum.StrEnum):
    """Where a case is in the workflow (stored as the value)."""

    COLLECTED = "collected"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    HANDLING = "handling"
    FEEDBACK = "feedback"
    VERIFIED = "verified"
    CLOSED = "closed"
    EVALUATED = "evaluated"
    REJECTED = "rejected"


class CaseAction(enum.StrEnum):
    """What a person does to a case; each moves it along one edge of the workflow."""

    ACCEPT = "accept"  # 立案
    REJECT = "reject"  # 不予立案
    DISPATCH = "dispatch"  # 派遣
    REASSIGN = "reassign"  # 改派 (another grid or department)
    START = "start"  # 签收, handling begins
    FEEDBACK = "feedback"  # 反馈 the result
    VERIFY = "verify"  # 核查通过
    REOPEN = "reopen"  # 核查不通过, back to handling
    CLOSE = "close"  # 结案
    EVALUATE = "evaluate"  # 评价 (the citizen's return visit for hotline cases)


class CaseSource(enum.StrEnum):
    """Where a case came from."""

    HOTLINE = "hotline"  # 12345, through Open311
    GRID_REPORT = "grid_report"  # a grid worker's phone
    PLATFORM = "platform"  # pushed down by the city's data platform


_MOVES: Mapping[tuple[CaseState, CaseAction], CaseState] = {
    (CaseState.COLLECTED, CaseAction.ACCEPT): CaseState.ACCEPTED,
    (CaseState.COLLECTED, CaseAction.REJECT): CaseState.REJECTED,
    (CaseState.ACCEPTED, CaseAction.DISPATCH): CaseState.DISPATCHED,
    (CaseState.DISPATCHED, CaseAction.REASSIGN): CaseState.DISPATCHED,
    (CaseState.HANDLING, CaseAction.REASSIGN): CaseState.DISPATCHED,
    (CaseState.DISPATCHED, CaseAction.START): CaseState.HANDLING,
    (CaseState.HANDLING, CaseAction.FEEDBACK): CaseState.FEEDBACK,
    (CaseState.FEEDBACK, CaseAction.VERIFY): CaseState.VERIFIED,
    (CaseState.FEEDBACK, CaseAction.REOPEN): CaseState.HANDLING,
    (CaseState.VERIFIED, CaseAction.CLOSE): CaseState.CLOSED,
    (CaseState.CLOSED, CaseAction.EVALUATE): CaseState.EVALUATED,
}

# Who may take a step: the command center (立案, 派遣, 核查, 结案, 评价) or the handler (签收, 反馈).
ACTION_NEEDS: Mapping[CaseAction, Action] = {
    a: Action.HANDLE_CASE if a in (CaseAction.START, CaseAction.FEEDBACK) else Action.DISPATCH for a in CaseAction
}

# States where the command center owes the next step; in the others the handler does. An overdue
# case is raised at the unit that owes the step: the street's center, or the grid.
CENTER_STATES: frozenset[CaseState] = frozenset(
    {CaseState.COLLECTED, CaseState.ACCEPTED, CaseState.FEEDBACK, CaseState.VERIFIED, CaseState.CLOSED}
)

TERMINAL: frozenset[CaseState] = frozenset({CaseState.EVALUATED, CaseState.REJECTED})
REASON_REQUIRED: frozenset[CaseAction] = frozenset({CaseAction.REJECT, CaseAction.REASSIGN, CaseAction.REOPEN})
SATISFACTION_RANGE = range(1, 6)  # 1 very dissatisfied .. 5 very satisfied


class InvalidTransition(ValueError):
    """A step the workflow does not allow from the case's current state."""


class MissingField(ValueError):
    """A step asked for without what it needs (a reason, a target, a satisfaction score)."""


@dataclass(frozen=True, slots=True)
class StepPlan:
    """An allowed step: where it leads, and whether it counts as a re-open."""

    action: CaseAction
    from_state: CaseState
    to_state: CaseState

    @property
    def reopens(self) -> bool:
        """Whether this step sends handled work back (the re-open rate counts these)."""
        return self.action is CaseAction.REOPEN


def actions_from(state: CaseState) -> tuple[CaseAction, ...]:
    """The actions the workflow allows from a state, in workflow order.

    >>> [a.value for a in actions_from(CaseState.FEEDBACK)]
    ['verify', 'reopen']
    """
    return tuple(a for (s, a) in _MOVES if s is state)


def plan(
    state: CaseState,
    action: CaseAction,
    *,
    source: CaseSource,
    reason: str = "",
    satisfaction: int | None = None,
    target_changes: bool = True,
) -> StepPlan:
    """Check one step against the workflow; raise InvalidTransition or MissingField with a clear message.

    ``target_changes`` says whether a reassignment names a grid or department other than the
    current one (a reassignment to the same place is refused). Hotline cases need the citizen's
    satisfaction (1–5) to be evaluated; other cases may carry one.

    >>> plan(CaseState.COLLECTED, CaseAction.ACCEPT, source=CaseSource.HOTLINE).to_state
    <CaseState.ACCEPTED: 'accepted'>
    >>> plan(CaseState.COLLECTED, CaseAction.CLOSE, source=CaseSource.HOTLINE)
    Traceback (most recent call last):
    ...
    domain.cases.InvalidTransition: cannot close a case that is collected (allowed: accept, reject)
    """
    to_state = _MOVES.get((state, action))
    if to_state is None:
        allowed = ", ".join(a.value for a in actions_from(state)) or "none"
        raise InvalidTransition(f"cannot {action.value} a case that is {state.value} (allowed: {allowed})")
    if action in REASON_REQUIRED and not reason.strip():
        raise MissingField(f"{action.value} needs a reason")
    if action is CaseAction.REASSIGN and not target_changes:
        raise MissingField("reassign needs another grid or department than the current one")
    if satisfaction is not None and satisfaction not in SATISFACTION_RANGE:
        raise MissingField("satisfaction is a whole number from 1 to 5")
    if action is CaseAction.EVALUATE and source is CaseSource.HOTLINE and satisfaction is None:
        raise MissingField("a hotline case is evaluated with the citizen's satisfaction (1–5)")
    return StepPlan(action, state, to_state)
