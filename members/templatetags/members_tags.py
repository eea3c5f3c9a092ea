from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def approval_required() -> bool:
    """Whether new trade accounts wait for staff approval (WHOLESALE_REQUIRE_APPROVAL)."""
    return settings.WHOLESALE_REQUIRE_APPROVAL
