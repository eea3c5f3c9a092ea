from django import template

from catalog.presenters import favorites_script as _favorites_script

register = template.Library()


@register.simple_tag
def favorites_script():
    """The script tag of static/js/favorites.js with its endpoint and the CSRF cookie name."""
    return _favorites_script()
