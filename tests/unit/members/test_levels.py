"""Choosing a level from trailing figures: pure, no database."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from members.levels import level_for, level_next
from members.models import Level


def level(name, position, spend=None, orders=None, rule="any", active=True, pk=None):
    return Level(
        pk=pk if pk is not None else position + 1,
        name=name,
        position=position,
        min_spend=Decimal(spend) if spend is not None else None,
        min_orders=orders,
        rule=rule,
        is_active=active,
    )


DEFAULTS = [
    level("Member", 0),
    level("Silver", 1, "2000", 5),
    level("Gold", 2, "10000", 15),
    level("Platinum", 3, "30000", 40),
]


class TestChoosingALevel:
    def test_nothing_paid_is_the_default_level(self):
        assert level_for(DEFAULTS, Decimal(0), 0).name == "Member"

    def test_either_threshold_reaches_a_level_ruled_any(self):
        assert level_for(DEFAULTS, Decimal("2000"), 0).name == "Silver"
        assert level_for(DEFAULTS, Decimal("0"), 5).name == "Silver"
        assert level_for(DEFAULTS, Decimal("1999.99"), 4).name == "Member"

    def test_the_best_level_reached_wins(self):
        assert level_for(DEFAULTS, Decimal("12000"), 3).name == "Gold"
        assert level_for(DEFAULTS, Decimal("100"), 40).name == "Platinum"

    def test_a_level_ruled_all_needs_both(self):
        levels = [level("Member", 0), level("Gold", 2, "10000", 15, rule="all")]
        assert level_for(levels, Decimal("50000"), 14).name == "Member"
        assert level_for(levels, Decimal("10000"), 15).name == "Gold"

    def test_an_empty_threshold_is_no_condition(self):
        levels = [level("Member", 0), level("Busy", 1, orders=10, rule="all")]
        assert level_for(levels, Decimal(0), 10).name == "Busy"

    def test_inactive_levels_are_never_reached(self):
        levels = [level("Member", 0), level("Gold", 2, "100", active=False)]
        assert level_for(levels, Decimal("1000"), 0).name == "Member"

    def test_only_the_lowest_level_without_thresholds_is_the_default(self):
        levels = [level("Guest", 0), level("Member", 1), level("Silver", 2, "10")]
        assert level_for(levels, Decimal(0), 0).name == "Guest"
        assert level_for(levels, Decimal(10), 0).name == "Silver"

    def test_no_default_and_nothing_reached_is_no_level(self):
        assert level_for([level("Silver", 1, "10")], Decimal(0), 0) is None
        assert level_for([], Decimal(10), 1) is None


class TestTheNextLevel:
    def test_says_what_is_missing_either_way(self):
        following = level_next(DEFAULTS, DEFAULTS[1], Decimal("8800"), 13)
        assert following.level.name == "Gold"
        assert following.spend == Decimal("1200")
        assert following.orders == 2
        assert not following.both

    def test_a_level_ruled_all_needs_only_what_is_missing(self):
        levels = [level("Member", 0), level("Gold", 2, "10000", 15, rule="all")]
        following = level_next(levels, levels[0], Decimal("12000"), 10)
        assert following.spend is None and following.orders == 5

    def test_none_at_the_top(self):
        assert level_next(DEFAULTS, DEFAULTS[3], Decimal("90000"), 99) is None


spends = st.decimals(min_value=0, max_value=100_000, places=2)
counts = st.integers(min_value=0, max_value=200)
thresholds = st.tuples(
    st.one_of(st.none(), spends),
    st.one_of(st.none(), counts),
    st.sampled_from(["any", "all"]),
    st.booleans(),
)


@given(
    shop=st.lists(thresholds, min_size=0, max_size=6),
    spend=spends,
    orders=counts,
    more_spend=spends,
    more_orders=counts,
)
def test_more_spend_or_more_orders_never_lowers_the_level(
    shop, spend, orders, more_spend, more_orders
):
    levels = [
        level(f"L{n}", n, spend=s, orders=o, rule=rule, active=active)
        for n, (s, o, rule, active) in enumerate(shop)
    ]

    def rank(chosen):
        return -1 if chosen is None else chosen.position

    before = level_for(levels, spend, orders)
    after = level_for(levels, spend + more_spend, orders + more_orders)
    assert rank(after) >= rank(before)
    if before is not None:
        assert before.is_active
