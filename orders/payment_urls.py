from django.urls import path

from . import payment_views

app_name = "payments"

urlpatterns = [
    path("card/<str:number>/", payment_views.card_start, name="card_start"),
    path("card/<str:number>/return/", payment_views.card_return, name="card_return"),
    path("stripe/webhook/", payment_views.stripe_webhook, name="stripe_webhook"),
]
