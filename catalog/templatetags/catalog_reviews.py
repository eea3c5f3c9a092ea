"""The product page's reviews: ``{% product_reviews product.pk as reviews %}`` reads the rating
summary and the newest approved reviews once (one query without reviews, two with them), for the
stars under the title and the reviews section (``catalog/_reviews.html``). The product page's
main column is cached, so this runs once per catalog version, not per visit."""

from dataclasses import dataclass

from django import template
from django.utils.safestring import SafeString

from catalog.reviews import RatingSummary, ReviewView, product_reviews_page, stars_html

register = template.Library()


@dataclass(frozen=True)
class ProductReviews:
    summary: RatingSummary
    reviews: list[ReviewView]

    @property
    def stars(self) -> SafeString:
        return stars_html(self.summary)


@register.simple_tag
def product_reviews(product_id) -> ProductReviews:
    summary, reviews = product_reviews_page(product_id)
    return ProductReviews(summary=summary, reviews=reviews)
