from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from wholesale.money import Money

from .points import points_balance, points_expiring, points_history, points_rules, points_value

HISTORY_PER_PAGE = 25


@login_required
@require_GET
def points(request):
    """The member's points: balance and what it is worth, what expires when, the history."""
    member = request.user
    rules = points_rules()
    balance = points_balance(member)
    page = Paginator(
        points_history(member).only("created_at", "kind", "points", "reason", "order_number"),
        HISTORY_PER_PAGE,
    ).get_page(request.GET.get("page"))
    context = {
        "balance": balance,
        "worth": Money(points_value(balance, rules), settings.WHOLESALE_BASE_CURRENCY),
        "rules": rules,
        "expiring": points_expiring(member),
        "page": page,
    }
    return render(request, "members/points.html", context)
