from django.conf import settings


def shop(request):
    return {
        "shop_name": settings.WHOLESALE_SHOP_NAME,
    }
