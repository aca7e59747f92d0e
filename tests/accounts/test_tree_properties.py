"""Whatever moves are attempted, the tree stays acyclic and at most MAX_DEPTH levels deep."""

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.accounts import MAX_DEPTH, ancestors, move_account
from telbill.core.errors import ValidationFailed


@settings(max_examples=15)
@given(moves=st.lists(st.tuples(st.integers(0, 7), st.integers(-1, 7)), min_size=1, max_size=25))
def test_moves_never_break_the_tree(session, clock, new_account, moves):
    nested = session.begin_nested()
    try:
        nodes = [new_account() for _ in range(8)]
        for who, where in moves:
            target = None if where < 0 else nodes[where].id
            with contextlib.suppress(ValidationFailed):
                move_account(session, clock, nodes[who].id, target)
            for node in nodes:
                chain = ancestors(session, node.id)  # raises on a cycle or an over-deep chain
                assert len(chain) + 1 <= MAX_DEPTH
                assert node.id not in {a.id for a in chain}
    finally:
        nested.rollback()
