from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template

TEMPLATE_ROOT = Path(settings.BASE_DIR) / "templates"
TEMPLATES = sorted(
    str(path.relative_to(TEMPLATE_ROOT)) for path in TEMPLATE_ROOT.rglob("*") if path.is_file()
)


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_compiles(name):
    """A typo in a rarely visited template fails here, not in front of a buyer."""
    assert get_template(name) is not None


def test_no_template_marks_data_safe():
    """User data is never rendered with |safe in HTML (B8): escaping is on everywhere.

    Plain-text emails (.txt) are not HTML and are rendered without escaping on purpose.
    """
    offenders = [
        name
        for name in TEMPLATES
        if name.endswith(".html")
        and any(
            marker in (TEMPLATE_ROOT / name).read_text(encoding="utf-8")
            for marker in ("|safe", "{% autoescape off")
        )
    ]
    assert offenders == []
