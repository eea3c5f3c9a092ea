from django.urls import path

from . import favorites_views, views

app_name = "members"

urlpatterns = [
    path("", views.account, name="account"),
    path("addresses/", views.addresses, name="addresses"),
    path("addresses/add/", views.address_add, name="address_add"),
    path("addresses/<int:address_id>/edit/", views.address_edit, name="address_edit"),
    path("addresses/<int:address_id>/delete/", views.address_remove, name="address_delete"),
    path("addresses/<int:address_id>/default/", views.address_default, name="address_default"),
    path("favorites/", favorites_views.favorite_list, name="favorites"),
    path("favorites/ids.json", favorites_views.favorite_ids, name="favorite_ids"),
    path("favorites/<int:product_id>/add/", favorites_views.favorite_add, name="favorite_add"),
    path(
        "favorites/<int:product_id>/remove/",
        favorites_views.favorite_remove,
        name="favorite_remove",
    ),
]
