from django.urls import path

from . import subscription_views as views

app_name = "subscriptions"

urlpatterns = [
    path("subscribe/", views.subscribe_page, name="subscribe"),
    path("subscribe/thanks/", views.subscribe_thanks, name="thanks"),
    path("subscribe/confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
    path("account/subscriptions/", views.account_subscriptions, name="account"),
    path(
        "account/subscriptions/<int:subscription_id>/unsubscribe/",
        views.account_subscription_end,
        name="account_end",
    ),
]
