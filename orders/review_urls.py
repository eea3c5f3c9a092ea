from django.urls import path

from . import review_views

app_name = "reviews"

urlpatterns = [
    path("", review_views.review_list, name="list"),
    path("<int:review_id>/delete/", review_views.review_delete, name="delete"),
    path("<slug:product_slug>/", review_views.review_write, name="write"),
]
