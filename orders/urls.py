from django.urls import path

from . import favorites_views, views

app_name = "orders"

urlpatterns = [
    path("", views.cart, name="cart"),
    path("add/<slug:slug>/", views.cart_add, name="cart_add"),
    path("lines/<int:line_id>/", views.cart_line, name="cart_line"),
    path("quick-order/", views.quick_order, name="quick_order"),
    path(
        "add-favorites/",
        favorites_views.cart_add_favorites_view,
        name="cart_add_favorites",
    ),
]
