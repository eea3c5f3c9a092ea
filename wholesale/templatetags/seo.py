from django import template

from wholesale import seo

register = template.Library()


@register.simple_tag(takes_context=True)
def seo_head(context, title=None, description=None):
    """The <head> tags search engines and link previews read (wholesale.seo.head_tags).

    Without arguments they come from the context the view gave (``title``,
    ``meta_description``, ``og_type``, ``og_image``, ``robots``, ``canonical_query``); a
    template whose title is a block rather than a variable passes its `title` (and
    `description`) here.
    """
    return seo.head_tags(
        context.get("request"),
        title=title if title is not None else context.get("title") or "",
        description=(
            description if description is not None else context.get("meta_description") or ""
        ),
        og_type=context.get("og_type") or "",
        image=context.get("og_image") or "",
        robots=context.get("robots") or "",
        canonical_query=context.get("canonical_query") or "",
    )
