from django.urls import path

from . import points_views

app_name = "points"

urlpatterns = [path("", points_views.points, name="points")]
