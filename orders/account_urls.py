from django.urls import path

from . import account_views

app_name = "buyer_orders"

urlpatterns = [
    path("", account_views.order_list, name="list"),
    path("<slug:number>/", account_views.order_detail, name="detail"),
    path("<slug:number>/cancel/", account_views.order_cancel, name="cancel"),
    path("<slug:number>/invoice/", account_views.order_invoice, name="invoice"),
    path("<slug:number>/reorder/", account_views.order_reorder, name="reorder"),
]
