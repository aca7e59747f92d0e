"""Every pair of states: legal moves succeed and name their event, the rest raise naming from/to."""

import itertools

import pytest

from telbill.core.errors import IllegalTransition
from telbill.subscriptions.lifecycle import State, can_move, check_move, event_for

LEGAL = {
    ("pending", "trial"): "Subscription.activated",
    ("pending", "active"): "Subscription.activated",
    ("pending", "cancelled"): "Subscription.cancelled",
    ("trial", "active"): "Subscription.activated",
    ("trial", "cancelled"): "Subscription.cancelled",
    ("active", "suspended"): "Subscription.suspended",
    ("active", "cancelled"): "Subscription.cancelled",
    ("suspended", "active"): "Subscription.resumed",
    ("suspended", "cancelled"): "Subscription.cancelled",
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(list(State), repeat=2)))
def test_every_pair_of_states(current, target):
    pair = (current.value, target.value)
    if pair in LEGAL:
        assert can_move(current, target)
        assert check_move(current, target) is target
        assert event_for(current, target) == LEGAL[pair]
    else:
        assert not can_move(current, target)
        with pytest.raises(IllegalTransition) as info:
            check_move(current, target)
        assert f"from {current} to {target}" in info.value.message


def test_cancelled_is_final():
    with pytest.raises(IllegalTransition, match="none \\(final state\\)"):
        check_move("cancelled", "active")
