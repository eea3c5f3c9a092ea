from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .cache import bump_catalog_version
from .images import image_files_release
from .models import (
    Category,
    CategoryTranslation,
    PriceTier,
    Product,
    ProductImage,
    ProductTranslation,
    Review,
    ReviewPhoto,
    StockMovement,
    Variant,
)
from .reviews import review_photo_files_release
from .services import product_search_refresh


@receiver([post_save, post_delete], sender=Product)
@receiver([post_save, post_delete], sender=Variant)
@receiver([post_save, post_delete], sender=PriceTier)
@receiver([post_save, post_delete], sender=ProductImage)
@receiver([post_save, post_delete], sender=Category)
@receiver([post_save, post_delete], sender=CategoryTranslation)
@receiver([post_save, post_delete], sender=ProductTranslation)
@receiver(post_delete, sender=Review)
def invalidate_catalog_cache(sender, **kwargs):
    bump_catalog_version()


@receiver([post_save, post_delete], sender=ProductTranslation)
def refresh_search_document(sender, instance, raw=False, **kwargs):
    # Search finds a product by its translated name and description too, whoever saved the
    # translation (the admin's inline, seed_demo, a script).
    if not raw:
        product_search_refresh(product_ids=[instance.product_id])


@receiver(post_delete, sender=ProductImage)
def release_image_files(sender, instance, **kwargs):
    image_files_release(instance)


@receiver(post_delete, sender=ReviewPhoto)
def release_review_photo_file(sender, instance, **kwargs):
    review_photo_files_release(instance)


@receiver(post_save, sender=Variant)
def open_stock_ledger(sender, instance, created, raw=False, **kwargs):
    # A variant created holding stock (seed_demo, factories, imports) starts its ledger with
    # an "initial" movement of that stock, so stock always equals the sum of its movements.
    # Every later change goes through catalog.services.stock_*. The product admin saves new
    # variants with 0 and records their initial stock itself, to say which staff member did.
    if created and not raw and instance.stock:
        StockMovement.objects.create(
            variant=instance,
            delta=instance.stock,
            balance_after=instance.stock,
            reason=StockMovement.Reason.INITIAL,
        )
