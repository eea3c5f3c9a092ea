"""Links to the review form where a buyer meets what they received.

``{% order_review_links detail %}`` on the buyer's order page: the received products of the
order, each with "Write a review" or "Edit your review". ``{% review_invite slug %}`` on the
product page, outside its cached main column (the link depends on the member): "Write a
review" for a member who received the product, in one query; nothing for anyone else.
"""

from django import template
from django.db.models import Exists, OuterRef, Subquery

from catalog.models import Product, Review

from ..reviews import order_reviewable_products, received_lines

register = template.Library()


@register.inclusion_tag("orders/reviews/_order_links.html", takes_context=True)
def order_review_links(context, detail):
    """`detail`: the page's orders.order_selectors.OrderDetail, whose lines and shipments are
    already read, so an order not received yet costs no query."""
    shipped = [shipment.shipped_at for shipment in detail.shipments]
    items = order_reviewable_products(
        member=context["request"].user,
        order=detail.order,
        lines=detail.lines,
        first_shipped_at=min(shipped) if shipped else None,
    )
    return {"items": items}


@register.inclusion_tag("orders/reviews/_invite.html", takes_context=True)
def review_invite(context, product_slug):
    user = context["request"].user
    if not user.is_authenticated or not product_slug:
        return {"product": None}
    mine = Review.objects.filter(member=user, product=OuterRef("pk")).values("status")[:1]
    product = (
        Product.objects.published()
        .filter(slug=product_slug)
        .annotate(
            received=Exists(received_lines(user).filter(product_id_snapshot=OuterRef("pk"))),
            my_review_status=Subquery(mine),
        )
        .only("id", "slug")
        .first()
    )
    if product is None or not product.received:
        return {"product": None}
    return {"product": product}
