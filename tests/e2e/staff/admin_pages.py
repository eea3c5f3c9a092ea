"""Driving the Django admin in the browser."""

from tests.factories import PASSWORD


def admin_log_in(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Log into /admin/ as a member of staff does: the admin's login sends them to the shop's
    login page (allauth, with its rate limits), which brings them back to the admin."""
    page.goto(base_url + "/admin/")
    page.wait_for_url("**/accounts/login/?next=*")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/admin/")
