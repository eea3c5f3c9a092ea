from django.urls import path

from . import inquiry_views, showcase_views, views

app_name = "staff"

urlpatterns = [
    path("r/<slug:code>/", views.referral, name="referral"),
    path("r/<slug:code>/qr.svg", views.referral_qr, name="referral_qr"),
    # Inquiries and buyer messages (staff.inquiry_views)
    path("contact/", inquiry_views.contact, name="contact"),
    path("contact/thanks/", inquiry_views.contact_thanks, name="contact_thanks"),
    path("account/messages/", inquiry_views.message_list, name="messages"),
    path("account/messages/new/", inquiry_views.message_new, name="message_new"),
    path("account/messages/<int:inquiry_id>/", inquiry_views.message_thread, name="message_thread"),
    # Company showcase pages (staff.showcase_views)
    path("company/", showcase_views.company_index, name="company_index"),
    path("company/<slug:slug>/", showcase_views.company_page, name="company_page"),
]
