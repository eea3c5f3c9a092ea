"""The member's level on the account hub (members' page, orders' figures: members does not
read orders, so the hub asks through this tag)."""

from django import template

from orders.membership import member_level_standing

register = template.Library()


@register.simple_tag
def level_standing(user):
    """{% level_standing user as standing %}: level, 12-month figures, the next level."""
    return member_level_standing(user)
