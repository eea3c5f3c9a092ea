from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import Category, PriceTier, Product, Variant
from catalog.services import product_refresh
from members.models import BusinessType, Distributor, User

PASSWORD = "demo-pass-2024"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            from allauth.account.models import EmailAddress

            EmailAddress.objects.get_or_create(
                user=obj, email=obj.email, defaults={"verified": True, "primary": True}
            )


class StaffFactory(UserFactory):
    is_staff = True


class DistributorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Distributor

    user = factory.SubFactory(UserFactory)
    company_name = factory.Sequence(lambda n: f"Trading Co {n}")
    contact_name = "Ana Buyer"
    country = "ES"
    business_type = BusinessType.ONLINE_SHOP
    phone = "+34 600 000 000"
    status = Distributor.Status.APPROVED


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class ProductFactory(factory.django.DjangoModelFactory):
    """A published product with three tiers (4.20 / 3.80 / 3.30) and two variants in stock.

    ``ProductFactory(variants=["S"], variants__stock=5)`` makes one variant holding 5; each
    variant's stock is opened in the ledger by an "initial" movement (catalog.signals).
    """

    class Meta:
        model = Product
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Cotton T-shirt {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    category = factory.SubFactory(CategoryFactory)
    description = "Heavy cotton, pre-shrunk."
    status = Product.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    option1_name = "Size"

    @factory.post_generation
    def tiers(obj, create, extracted, **kwargs):
        if not create:
            return
        rows = extracted if extracted is not None else [(1, "4.20"), (10, "3.80"), (50, "3.30")]
        for min_quantity, price in rows:
            PriceTier.objects.create(
                product=obj, min_quantity=min_quantity, unit_price=Decimal(price)
            )

    @factory.post_generation
    def variants(obj, create, extracted, **kwargs):
        if not create:
            return
        sizes = extracted if extracted is not None else ["S", "M"]
        for index, size in enumerate(sizes):
            Variant.objects.create(
                product=obj,
                sku=f"{obj.slug.upper()}-{size}",
                option1=size,
                stock=kwargs.get("stock", 100),
                weight_grams=200,
                position=index,
            )
        product_refresh(product_ids=[obj.pk])
        obj.refresh_from_db()


class EditorFactory(StaffFactory):
    """A staff user with every catalog model permission, as the editor role has."""

    @factory.post_generation
    def catalog_permissions(obj, create, extracted, **kwargs):
        if create:
            from django.contrib.auth.models import Permission

            obj.user_permissions.add(*Permission.objects.filter(content_type__app_label="catalog"))


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.Address"

    member = factory.SubFactory(UserFactory)
    name = "Ana Buyer"
    company = "Trading Co"
    line1 = "Calle Mayor 1"
    city = "Madrid"
    postal_code = "28013"
    country = "ES"
    phone = "+34 600 000 000"


class ShippingZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.ShippingZone"

    name = factory.Sequence(lambda n: f"Zone {n}")
    countries = ["ES", "FR", "DE", "US", "GB"]


class ShippingMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.ShippingMethod"
        django_get_or_create = ("code",)

    name = "Express courier"
    code = "express"


class ShippingRateFactory(factory.django.DjangoModelFactory):
    """Express to Spain and friends: 20.00 for the first 500 g, then 5.00 per started 500 g."""

    class Meta:
        model = "orders.ShippingRate"

    zone = factory.SubFactory(ShippingZoneFactory)
    method = factory.SubFactory(ShippingMethodFactory)
    first_weight_grams = 500
    first_price = Decimal("20.00")
    additional_weight_grams = 500
    additional_price = Decimal("5.00")
    min_days = 5
    max_days = 9


def place_order(member, quantities, *, payment_method="bank_transfer", address=None, **options):
    """Put `quantities` ({variant: units}) in the member's cart and check out through the real
    services; ships express (a rate is created if none exists). Returns the order."""
    import uuid

    from orders.checkout import order_place
    from orders.models import ShippingRate
    from orders.services import cart_add_lines

    if not ShippingRate.objects.filter(method__code="express").exists():
        ShippingRateFactory()
    by_product = {}
    for variant, units in quantities.items():
        by_product.setdefault(variant.product.slug, {})[variant.pk] = units
    for slug, wanted in by_product.items():
        cart_add_lines(member=member, product_slug=slug, quantities=wanted)
    address = address or AddressFactory(member=member)
    return order_place(
        member=member,
        checkout_key=options.pop("checkout_key", None) or uuid.uuid4(),
        address_id=address.pk,
        method_code=options.pop("method_code", "express"),
        payment_method=payment_method,
        **options,
    )


class ProductTranslationFactory(factory.django.DjangoModelFactory):
    """A product's name and description in another language (Spanish unless told)."""

    class Meta:
        model = "catalog.ProductTranslation"

    product = factory.SubFactory(ProductFactory)
    language = "es"
    name = factory.LazyAttribute(lambda o: f"{o.product.name} ({o.language})")
    description = ""


class CategoryTranslationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.CategoryTranslation"

    category = factory.SubFactory(CategoryFactory)
    language = "es"
    name = factory.LazyAttribute(lambda o: f"{o.category.name} ({o.language})")
    description = ""
