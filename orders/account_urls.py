from django.urls import path

app_name = "buyer_orders"

urlpatterns: list[path] = []
