from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.analytics_index, name="index"),
    path("refresh/", views.analytics_refresh, name="refresh"),
    path("<slug:slug>/", views.analytics_report, name="report"),
]
