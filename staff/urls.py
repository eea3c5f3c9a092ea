from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("<slug:code>/", views.referral, name="referral"),
    path("<slug:code>/qr.svg", views.referral_qr, name="referral_qr"),
]
