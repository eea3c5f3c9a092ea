from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.cart, name="cart"),
    path("add/<slug:slug>/", views.cart_add, name="cart_add"),
    path("lines/<int:line_id>/", views.cart_line, name="cart_line"),
    path("quick-order/", views.quick_order, name="quick_order"),
]
