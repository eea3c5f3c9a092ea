from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from .favorites_cart import cart_add_favorites


@login_required
@require_POST
def cart_add_favorites_view(request):
    """The favorites page's "Add all to cart": to the cart when something went in, else back
    to the favorites; each product that could not be added is named with the reason."""
    try:
        results = cart_add_favorites(member=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("members:favorites")
    added = [result for result in results if result.added]
    already = [result for result in results if result.already]
    if added:
        messages.success(
            request,
            ngettext(
                "%(count)s favorite was added to your cart at its minimum order.",
                "%(count)s favorites were added to your cart at their minimum order.",
                len(added),
            )
            % {"count": len(added)},
        )
    if already:
        messages.info(
            request,
            _("Already in your cart at their minimum order: %(names)s.")
            % {"names": ", ".join(result.product_name for result in already)},
        )
    for result in results:
        if result.reason:
            messages.warning(request, result.reason)
    if not added and not already and not results:
        messages.info(request, _("You have no favorites to add yet."))
    return redirect("orders:cart" if added else "members:favorites")
