"""The report pages: /analytics/ lists the reports the viewer may read, /analytics/<slug>/
shows one (cards, chart, table, filters) and ?format=csv downloads its table. Thin: the
figures come from analytics.reports, the access rules from analytics.access."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wholesale.csv_export import csv_response

from .access import ALL, may_read_analytics, viewer_for
from .database import report_transaction
from .models import RollupRun
from .query import query_from
from .registry import report_for, reports_in_order


def _refused(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    raise PermissionDenied(_("You may not read this report."))


def _readable(user):
    return [r for r in reports_in_order() if viewer_for(user, r.audiences) is not None]


@require_GET
def analytics_index(request):
    if not may_read_analytics(request.user):
        return _refused(request)
    context = {
        **admin.site.each_context(request),
        "title": _("Analytics"),
        "reports": _readable(request.user),
        "last_run": RollupRun.objects.filter(finished_at__isnull=False).first(),
        "may_refresh": request.user.has_perm(ALL),
    }
    return render(request, "analytics/index.html", context)


@require_POST
def analytics_refresh(request):
    """The manager asks for the rollups to be rebuilt now (the reports that read them say
    so); the worker does it, as beat does every hour."""
    if not request.user.has_perm(ALL):
        return _refused(request)
    from .tasks import rollups_refresh_task

    rollups_refresh_task.delay()
    messages.success(request, _("The reports' figures are being refreshed."))
    return redirect("analytics:index")


@require_GET
def analytics_report(request, slug):
    report = report_for(slug)
    if report is None:
        raise Http404(_("No such report."))
    viewer = viewer_for(request.user, report.audiences)
    if viewer is None:
        return _refused(request)
    form, query = query_from(request.GET, filters=report.filters, viewer=viewer)
    with report_transaction():
        result = report.build(query)
    if request.GET.get("format") == "csv":
        name = f"{report.slug}-{query.period.start:%Y%m%d}-{query.period.end:%Y%m%d}.csv"
        return csv_response(name, [c.label for c in result.columns], result.csv_rows())
    csv_query = request.GET.copy()
    csv_query["format"] = "csv"
    context = {
        **admin.site.each_context(request),
        "title": f"{report.number}. {report.title}",
        "report": report,
        "reports": _readable(request.user),
        "form": form,
        "query": query,
        "result": result,
        "chart": result.chart.as_json() if result.chart else None,
        "csv_query": csv_query.urlencode(),
    }
    return render(request, "analytics/report.html", context)
