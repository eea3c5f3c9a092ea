"""A complete signup as a new distributor would fill it in."""

from members.models import BusinessType

SIGNUP = {
    "email": "Ana@Shop.example",
    "password1": "a-long-trade-pass-77",
    "password2": "a-long-trade-pass-77",
    "company_name": "Tienda Ana SL",
    "contact_name": "Ana Ruiz",
    "country": "ES",
    "business_type": BusinessType.ONLINE_SHOP,
    "phone": "+34 600 111 222",
    "website": "tienda-ana.example",
    "tax_number": "ESB12345678",
}
