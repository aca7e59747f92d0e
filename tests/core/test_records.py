"""`quick_init` builds the same values as the dataclass's own `__init__`, and refuses what it
would refuse."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from telbill.core.money import Money
from telbill.core.records import quick_init


def _pair(**options):  # type: ignore[no-untyped-def]
    def make():  # type: ignore[no-untyped-def]
        @dataclass(frozen=True, slots=True, **options)
        class Value:
            a: int
            b: str = "x"
            c: tuple[int, ...] = field(default_factory=tuple)
            d: int = field(default=7, init=False)
            e: tuple[int, ...] = field(default=(), kw_only=True)
            f: Decimal = field(default=Decimal(0), kw_only=True)

            def __post_init__(self) -> None:
                if self.a < 0:
                    raise ValueError("negative")

        return Value

    return make(), quick_init(make())


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((1,), {}),
        ((1, "y"), {}),
        ((1, "y", (2,)), {"e": (3,)}),
        ((), {"a": 2, "c": (1,), "f": Decimal("1.5")}),
    ],
)
def test_same_values_as_the_dataclass_init(args, kwargs):
    plain, quick = _pair()
    a, b = plain(*args, **kwargs), quick(*args, **kwargs)
    assert dataclasses.asdict(a) == dataclasses.asdict(b)
    assert repr(a).split("(", 1)[1] == repr(b).split("(", 1)[1]
    assert hash(b) == hash(quick(*args, **kwargs)) and b == quick(*args, **kwargs)


def test_refusals_and_frozenness_are_kept():
    plain, quick = _pair()
    for cls in (plain, quick):
        with pytest.raises(ValueError, match="negative"):
            cls(-1)
        with pytest.raises(TypeError):
            cls()  # a required field
        with pytest.raises(TypeError):
            cls(1, "y", (), (1,))  # e is keyword-only
        with pytest.raises(dataclasses.FrozenInstanceError):
            cls(1).a = 2  # type: ignore[misc]
    assert quick(1).c == () and quick(1).d == 7  # factory and non-init defaults


def test_classes_it_cannot_handle_are_left_alone():
    @dataclass
    class Mutable:
        a: int

    init = Mutable.__init__
    assert quick_init(Mutable).__init__ is init


def test_money_keeps_its_checks():
    money = Money("1.50", "EUR")
    assert money.amount == Decimal("1.50")  # built from text by its __post_init__
    assert pickle.loads(pickle.dumps(money)) == money
    with pytest.raises(Exception, match="currency"):
        Money(Decimal(1), "XXX1")
