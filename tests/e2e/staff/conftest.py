import pytest


@pytest.fixture
def new_page(browser):
    """Opens a page in a fresh browser context (its own cookies, as a separate person at their
    own computer) at desktop size; every context is closed after the test."""
    contexts = []

    def open_page():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_page
    for context in contexts:
        context.close()
