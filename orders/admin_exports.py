"""ERP export profiles and their run log in the admin (orders.exports does the work).

The manager and the super admin manage profiles (DESIGN.md roles table); the run log is
read-only, with the file of a folder export to download. "Run now" queues the profile's next
batch on the worker through the outbox (wholesale.outbox), as the schedule does.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from wholesale.outbox import enqueue_on_commit

from .exports import SOURCES, run_file_path, xlsx_available
from .models import ExportProfile, ExportRun, OrderState


def _columns_text(columns) -> str:
    return "\n".join(f"{item['source']} = {item['column']}" for item in columns or [])


def _sources_help() -> str:
    return ", ".join(f"{key} ({source.label})" for key, source in SOURCES.items())


class ExportProfileForm(forms.ModelForm):
    states = forms.MultipleChoiceField(
        label=_("Order states"),
        choices=OrderState.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen exports every state."),
    )
    endpoint_url = forms.URLField(
        label=_("Endpoint URL"),
        required=False,
        assume_scheme="https",
        help_text=_("The file is POSTed here with the secret in the X-Export-Secret header."),
    )
    columns = forms.CharField(
        label=_("Columns"),
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    class Meta:
        model = ExportProfile
        fields = [
            "name",
            "is_active",
            "states",
            "date_from",
            "date_to",
            "incremental",
            "columns",
            "format",
            "folder",
            "endpoint_url",
            "endpoint_secret",
            "schedule",
        ]
        widgets = {"endpoint_secret": forms.PasswordInput(render_value=True)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["columns"].help_text = _(
            "One column a line, in order: source = column name. Sources: %(sources)s."
        ) % {"sources": _sources_help()}
        if not self.is_bound:
            self.initial["columns"] = _columns_text(self.instance.fields)
        if not xlsx_available():
            self.fields["format"].choices = [
                choice
                for choice in self.fields["format"].choices
                if choice[0] != ExportProfile.Format.XLSX
            ]

    def clean_columns(self):
        columns = []
        for number, raw in enumerate(self.cleaned_data["columns"].splitlines(), start=1):
            if not raw.strip():
                continue
            source, sep, column = raw.partition("=")
            source, column = source.strip(), column.strip()
            if not sep or source not in SOURCES or not column:
                raise forms.ValidationError(
                    _("Line %(number)d: write a known source, '=', then the column name."),
                    params={"number": number},
                )
            columns.append({"source": source, "column": column})
        if not columns:
            raise forms.ValidationError(_("Choose at least one column."))
        return columns

    def _post_clean(self):
        if "columns" in self.cleaned_data:
            self.instance.fields = self.cleaned_data["columns"]
        super()._post_clean()

    def _update_errors(self, errors):
        # The model's "fields" are edited here as "columns": its errors are shown there, and
        # dropped when the columns text was already refused.
        if hasattr(errors, "error_dict") and "fields" in errors.error_dict:
            moved = errors.error_dict.pop("fields")
            if "columns" not in self.errors:
                self.add_error("columns", moved)
        super()._update_errors(errors)


@admin.register(ExportProfile)
class ExportProfileAdmin(admin.ModelAdmin):
    form = ExportProfileForm
    list_display = ["name", "is_active", "format", "destination", "schedule", "last_success_at"]
    list_filter = ["is_active", "format", "schedule"]
    search_fields = ["name"]
    readonly_fields = ["last_success_at", "last_cursor"]
    actions = ["run_now_action"]
    change_form_template = "admin/orders/exportprofile/change_form.html"

    @admin.display(description=_("destination"))
    def destination(self, obj):
        return obj.folder or obj.endpoint_url

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["name", "is_active", "schedule"]}),
            (_("Which orders"), {"fields": ["states", "date_from", "date_to", "incremental"]}),
            (_("What and where"), {"fields": ["columns", "format", "folder", "endpoint_url"]}),
            (None, {"fields": ["endpoint_secret", "last_success_at", "last_cursor"]}),
        ]

    def _run_now(self, request, profiles) -> int:
        queued = 0
        for profile in profiles:
            if profile.is_active:
                from .tasks import export_run_task

                enqueue_on_commit(export_run_task, profile.pk)
                queued += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d export queued; its run appears in the run log.",
                "%(count)d exports queued; their runs appear in the run log.",
                queued,
            )
            % {"count": queued},
            messages.SUCCESS if queued else messages.WARNING,
        )
        return queued

    @admin.action(description=_("Run now"), permissions=["change"])
    def run_now_action(self, request, queryset):
        self._run_now(request, queryset.order_by("pk"))

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/run/",
                self.admin_site.admin_view(self.run_now_view),
                name=f"{prefix}_run",
            ),
            *super().get_urls(),
        ]

    def run_now_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        profile = self.get_object(request, unquote(object_id))
        if profile is None:
            raise Http404
        if not self.has_change_permission(request, profile):
            raise PermissionDenied
        self._run_now(request, [profile])
        return HttpResponseRedirect(reverse("admin:orders_exportrun_changelist"))


@admin.register(ExportRun)
class ExportRunAdmin(admin.ModelAdmin):
    list_display = [
        "profile",
        "started_at",
        "finished_at",
        "status",
        "attempts",
        "row_count",
        "download",
    ]
    list_filter = ["status", "profile"]
    list_select_related = ["profile"]
    readonly_fields = [
        "profile",
        "started_at",
        "finished_at",
        "status",
        "attempts",
        "row_count",
        "file",
        "error",
        "cursor_from",
        "cursor_to",
        "upper_bound",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download(self, obj):
        if obj.status != ExportRun.Status.SUCCEEDED or not obj.profile.folder or not obj.file:
            return obj.file
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:orders_exportrun_download", args=[obj.pk]),
            _("Download"),
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="orders_exportrun_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = self.get_object(request, unquote(object_id))
        path_found = run_file_path(run) if run is not None else None
        if path_found is None:
            raise Http404
        return FileResponse(path_found.open("rb"), as_attachment=True, filename=path_found.name)
