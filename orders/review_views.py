"""The buyer's review pages under /account/reviews/: their reviews and what they may review,
the form for one product, and deleting their own review. Thin: reads through orders.reviews
and catalog.reviews (scoped to the member: another member's review id is a 404), writes
through one service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from catalog import reviews as catalog_reviews

from . import reviews
from .review_forms import ReviewForm


@login_required
@require_safe
def review_list(request):
    written = list(catalog_reviews.reviews_of(request.user))
    reviewed = {review.product_id for review in written}
    to_review = [
        product
        for product in reviews.review_eligible_products(request.user)
        if product.pk not in reviewed
    ]
    return render(request, "orders/reviews/list.html", {"written": written, "to_review": to_review})


def _form_page(request, *, product, form, review, status=200):
    return render(
        request,
        "orders/reviews/form.html",
        {"product": product, "form": form, "review": review, "may_review": True},
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def review_write(request, product_slug):
    product = reviews.reviewable_product(member=request.user, product_slug=product_slug)
    if not reviews.review_may_write(member=request.user, product=product):
        return render(
            request,
            "orders/reviews/form.html",
            {
                "product": product,
                "may_review": False,
                "refusal": reviews.not_received_error().messages[0],
            },
            status=403,
        )
    review = catalog_reviews.review_of(member=request.user, product=product)
    if request.method != "POST":
        initial = {}
        if review is not None:
            initial = {"rating": review.rating, "title": review.title, "text": review.text}
        return _form_page(request, product=product, form=ReviewForm(initial=initial), review=review)

    form = ReviewForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_page(request, product=product, form=form, review=review, status=400)
    try:
        reviews.review_write(
            member=request.user,
            product_slug=product.slug,
            rating=form.cleaned_data["rating"],
            title=form.cleaned_data["title"],
            text=form.cleaned_data["text"],
            photos=form.cleaned_data["photos"],
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _form_page(request, product=product, form=form, review=review, status=400)
    messages.success(
        request,
        _("Thank you! Your review of %(product)s is saved and appears once we have checked it.")
        % {"product": product.name},
    )
    return redirect("reviews:list")


@login_required
@require_POST
def review_delete(request, review_id):
    review = catalog_reviews.access_own_review(member=request.user, review_id=review_id)
    name = review.product.name
    catalog_reviews.review_delete(review=review)
    messages.success(request, _("Your review of %(product)s is deleted.") % {"product": name})
    return redirect("reviews:list")
