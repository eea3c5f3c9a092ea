"""/i18n/: the language switcher (Django's set_language, wrapped) and the "Ship to" country."""

from django.urls import path

from . import visitor_views

urlpatterns = [
    path("setlang/", visitor_views.set_language, name="set_language"),
    path("country/", visitor_views.set_country, name="set_country"),
]
