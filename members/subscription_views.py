"""The subscription pages: subscribe (footer, category pages), confirm, one-click unsubscribe,
and the member's own list under /account/subscriptions/.

Thin: each view checks a form or a token, calls one function of members.subscriptions and
picks a response. Whatever the address, a request to subscribe ends on the same thanks page
(no enumeration). Confirming and unsubscribing happen on POST only: mail scanners open GET
links, and must not confirm or end anything by doing so.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .subscription_forms import AlertForm, SubscribeForm, active_category
from .subscriptions import (
    Kind,
    Outcome,
    confirm_token_check,
    subscribe,
    subscription_confirm,
    subscription_end,
    subscription_rate_limited,
    subscriptions_of_member,
    unsubscribe,
    unsubscribe_token_check,
)

TOO_MANY = _("We received several requests from you in the last hour. Try again later.")
CHECK_INBOX = _(
    "Thank you. Check your inbox: unless this address is already subscribed, an email with a "
    "link to confirm is on its way."
)


def _rate_limited(request) -> bool:
    return subscription_rate_limited(get_adapter(request).get_client_ip(request))


def _subscribe_page(request, form, category, *, status=200):
    return render(
        request,
        "members/subscriptions/subscribe.html",
        {"form": form, "category": category},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def subscribe_page(request):
    """The newsletter, or with `category` a category's new-arrival alerts. The footer and the
    category pages send guests here with a GET (their cached pages carry no CSRF token)."""
    if request.method != "POST":
        slug = request.GET.get("category", "")
        category = active_category(slug)
        if slug and category is None:
            raise Http404(_("There is no such category."))
        email = request.GET.get("email", "")[:254]
        if not email and request.user.is_authenticated:
            email = request.user.email
        initial = {"email": email, "category": category.slug if category else ""}
        return _subscribe_page(request, SubscribeForm(initial=initial), category)

    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return _subscribe_page(
            request, form, active_category(request.POST.get("category", "")), status=400
        )
    category = form.cleaned_data["category"]
    if _rate_limited(request):
        form.add_error(None, TOO_MANY)
        return _subscribe_page(request, form, category, status=429)
    subscribe(
        email=form.cleaned_data["email"],
        kind=Kind.NEW_ARRIVALS if category else Kind.NEWSLETTER,
        category=category,
        member=request.user if request.user.is_authenticated else None,
    )
    return redirect("subscriptions:thanks")


@require_safe
def subscribe_thanks(request):
    return render(request, "members/subscriptions/thanks.html", {"message": CHECK_INBOX})


def _token_problem(outcome: Outcome) -> str:
    if outcome == Outcome.EXPIRED:
        return _(
            "This confirmation link has expired: links work for three days. Subscribe again "
            "to receive a new one."
        )
    return _(
        "This link is not valid: it may be incomplete, or belong to a request replaced since. "
        "Copy the whole link from the email, or subscribe again."
    )


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    """GET shows the button, POST confirms (double opt-in)."""
    if request.method == "POST":
        result = subscription_confirm(token)
        confirmed = True
    else:
        result = confirm_token_check(token)
        confirmed = result.subscription is not None and result.subscription.confirmed_at
    context = {"subscription": result.subscription, "confirmed": confirmed, "token": token}
    if result.outcome != Outcome.DONE:
        context["problem"] = _token_problem(result.outcome)
        return render(request, "members/subscriptions/confirm.html", context, status=400)
    return render(request, "members/subscriptions/confirm.html", context)


@csrf_exempt  # RFC 8058: the mail client's one-click POST carries no token; it only ends
# the subscription named by the signed token in the URL.
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_view(request, token):
    """GET shows a button (link scanners must not unsubscribe anyone), POST unsubscribes:
    from that button, or straight from the mail client (List-Unsubscribe-Post)."""
    if request.method == "POST":
        result = unsubscribe(token)
        done = True
    else:
        result = unsubscribe_token_check(token)
        subscription = result.subscription
        done = subscription is None or subscription.unsubscribed_at is not None
    context = {"subscription": result.subscription, "done": done, "token": token}
    if result.outcome != Outcome.DONE:
        context["problem"] = _token_problem(result.outcome)
        return render(request, "members/subscriptions/unsubscribe.html", context, status=400)
    return render(request, "members/subscriptions/unsubscribe.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def account_subscriptions(request):
    """The member's subscriptions, with a button to end each; subscribe to the newsletter or
    to a category's new arrivals (confirmed by email like anyone's)."""
    alert_form = AlertForm(request.POST if request.POST.get("kind") == "alert" else None)
    status = 200
    if request.method == "POST":
        kind = request.POST.get("kind")
        category = None
        if kind == "alert":
            valid = alert_form.is_valid()
            category = alert_form.cleaned_data.get("category") if valid else None
        else:
            valid = kind == "newsletter"
        if not valid:
            status = 400
        elif _rate_limited(request):
            messages.error(request, TOO_MANY)
            return redirect("subscriptions:account")
        else:
            subscribe(
                email=request.user.email,
                kind=Kind.NEW_ARRIVALS if category else Kind.NEWSLETTER,
                category=category,
                member=request.user,
            )
            messages.success(request, CHECK_INBOX)
            return redirect("subscriptions:account")
    subscriptions = list(subscriptions_of_member(request.user))
    newsletter_open = not any(
        s.kind == Kind.NEWSLETTER and s.unsubscribed_at is None for s in subscriptions
    )
    return render(
        request,
        "members/subscriptions/account.html",
        {
            "subscriptions": subscriptions,
            "alert_form": alert_form,
            "newsletter_open": newsletter_open,
        },
        status=status,
    )


@login_required
@require_POST
def account_subscription_end(request, subscription_id):
    subscription_end(member=request.user, subscription_id=subscription_id)
    messages.success(request, _("You are unsubscribed."))
    return redirect("subscriptions:account")
