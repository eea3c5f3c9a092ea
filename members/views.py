from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .forms import AddressForm, DistributorProfileForm
from .points import points_balance
from .selectors import address_for, addresses_for, distributor_for
from .services import (
    address_create,
    address_delete,
    address_set_default,
    address_update,
    distributor_register,
    distributor_update_profile,
)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def account(request):
    """The buyer's hub: approval status and the company profile.

    Staff without a distributor profile get a short page pointing to the admin; a login made in
    the admin without a profile is asked to complete one, as signup would have.
    """
    distributor = distributor_for(request.user)
    if distributor is None and request.user.is_staff:
        return render(request, "members/account_staff.html")
    data = request.POST if request.method == "POST" else None
    form = DistributorProfileForm(data, instance=distributor)
    if request.method == "POST" and form.is_valid():
        if distributor is None:
            distributor_register(user=request.user, request=request, **form.cleaned_data)
            messages.success(request, _("Thank you, your company profile is saved."))
        else:
            distributor_update_profile(distributor=distributor, data=form.cleaned_data)
            messages.success(request, _("Your company profile is saved."))
        return redirect("members:account")
    context = {"form": form, "distributor": distributor}
    if distributor is not None:
        context["points_balance"] = points_balance(request.user)
    return render(request, "members/account.html", context)


# --- Address book -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def addresses(request):
    """The address book: the member's own addresses, then their end customers'."""
    book = list(addresses_for(request.user))
    return render(
        request,
        "members/addresses.html",
        {
            "own": [address for address in book if not address.is_end_customer],
            "end_customers": [address for address in book if address.is_end_customer],
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def address_add(request):
    form = AddressForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        address_create(member=request.user, data=form.address_data())
        messages.success(request, _("Address saved."))
        return redirect("members:addresses")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "members/addresses_form.html", {"form": form, "address": None}, status=status
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def address_edit(request, address_id):
    address = address_for(request.user, address_id)
    form = AddressForm(request.POST if request.method == "POST" else None, instance=address)
    if request.method == "POST" and form.is_valid():
        address_update(member=request.user, address_id=address.pk, data=form.address_data())
        messages.success(request, _("Address saved."))
        return redirect("members:addresses")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "members/addresses_form.html", {"form": form, "address": address}, status=status
    )


@login_required
@require_POST
def address_remove(request, address_id):
    address_delete(member=request.user, address_id=address_id)
    messages.success(request, _("Address deleted. Orders already placed keep their copy."))
    return redirect("members:addresses")


@login_required
@require_POST
def address_default(request, address_id):
    try:
        address = address_set_default(member=request.user, address_id=address_id)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, _("%(name)s is now your default address.") % {"name": address.name}
        )
    return redirect("members:addresses")
