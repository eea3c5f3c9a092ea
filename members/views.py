from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .forms import DistributorProfileForm
from .selectors import distributor_for
from .services import distributor_register, distributor_update_profile


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
            distributor_register(user=request.user, **form.cleaned_data)
            messages.success(request, _("Thank you, your company profile is saved."))
        else:
            distributor_update_profile(distributor=distributor, data=form.cleaned_data)
            messages.success(request, _("Your company profile is saved."))
        return redirect("members:account")
    return render(request, "members/account.html", {"form": form, "distributor": distributor})
