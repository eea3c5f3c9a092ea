from django.urls import path

from . import checkout_views

app_name = "checkout"

urlpatterns = [
    path("", checkout_views.delivery, name="delivery"),
    path("review/", checkout_views.review, name="review"),
]
