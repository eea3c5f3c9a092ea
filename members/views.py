from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .forms import DistributorProfileForm
from .services import distributor_update_profile


@login_required
def account(request):
    distributor = getattr(request.user, "distributor", None)
    form = None
    if distributor is not None:
        form = DistributorProfileForm(request.POST or None, instance=distributor)
        if request.method == "POST" and form.is_valid():
            distributor_update_profile(distributor=distributor, data=form.cleaned_data)
            messages.success(request, _("Your company profile is saved."))
            return redirect("members:account")
    return render(request, "members/account.html", {"form": form, "distributor": distributor})
