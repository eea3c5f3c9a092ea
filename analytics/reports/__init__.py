"""The fifteen reports, one module per subject; importing this package registers them."""

from . import (  # noqa: F401
    buyers,
    market_payments,
    products,
    sales,
    staff_membership,
)
