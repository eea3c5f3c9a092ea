from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .cache import bump_catalog_version
from .images import image_files_release
from .models import Category, PriceTier, Product, ProductImage, Variant


@receiver([post_save, post_delete], sender=Product)
@receiver([post_save, post_delete], sender=Variant)
@receiver([post_save, post_delete], sender=PriceTier)
@receiver([post_save, post_delete], sender=ProductImage)
@receiver([post_save, post_delete], sender=Category)
def invalidate_catalog_cache(sender, **kwargs):
    bump_catalog_version()


@receiver(post_delete, sender=ProductImage)
def release_image_files(sender, instance, **kwargs):
    image_files_release(instance)
