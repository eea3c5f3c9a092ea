"""The fifteen reports, one module per subject; importing this package registers them."""

from . import sales  # noqa: F401
