from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.analytics_index, name="index"),
    path("<slug:slug>/", views.analytics_report, name="report"),
]
