from django.urls import path

from . import kit_views

app_name = "kits"

urlpatterns = [
    path("", kit_views.kit_list, name="list"),
    path("new/", kit_views.kit_new, name="new"),
    path("markup/", kit_views.kit_markup, name="markup"),
    path("<int:kit_id>/download/", kit_views.kit_download, name="download"),
]
