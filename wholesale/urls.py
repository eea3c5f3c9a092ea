from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from . import health, seo, sitemaps, views_currency

# allauth's rate limits only guard its own login view: send the admin's login through it.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = settings.WHOLESALE_SHOP_NAME
admin.site.site_title = settings.WHOLESALE_SHOP_NAME

# The staff's pages and the machine endpoints have one address; the buyers' pages have one per
# language, English's without a prefix (/catalog/) and the others' with one (/es/catalog/).
urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("robots.txt", seo.robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemaps.sitemap_index, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemaps.sitemap_section, name="sitemap_section"),
    path("admin/", admin.site.urls),
    path("analytics/", include("analytics.urls")),
    path("i18n/", include("wholesale.visitor_urls")),  # set_language, set_country
    path("currency/", views_currency.currency_set, name="currency_set"),
]

urlpatterns += i18n_patterns(
    path("accounts/", include("allauth.urls")),
    path("account/orders/", include("orders.account_urls")),
    path("account/points/", include("members.points_urls")),
    path("account/kits/", include("orders.kit_urls")),
    path("account/reviews/", include("orders.review_urls")),
    path("account/", include("members.urls")),
    path("cart/", include("orders.urls")),
    path("checkout/", include("orders.checkout_urls")),
    path("payments/", include("orders.payment_urls")),
    path("", include("members.subscription_urls")),  # /subscribe/, /unsubscribe/<token>/ …
    path("", include("staff.urls")),  # /r/<code>/, /contact/, /account/messages/
    path("", include("catalog.urls")),
    prefix_default_language=False,
)

if settings.WHOLESALE_SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
