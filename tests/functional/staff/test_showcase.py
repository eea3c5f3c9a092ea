"""The showcase: company pages in the shop and in the admin (editor and manager), the links to
them and the live chat in every shop page's layout (cached), and the shop settings that only
the super admin may change. B8 for what editors type; B5 for the pictures they upload."""

import io
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch
from PIL import Image

from staff import roles, showcase, showcase_views
from staff.models import CompanyPage, CompanyPageImage, ShopSettings
from staff.showcase import company_image_add
from tests.factories import DistributorFactory, ProductFactory, StaffFactory, UserFactory
from tests.integration.catalog.test_images import png_claiming

pytestmark = pytest.mark.django_db

PAGES_ADMIN = "/admin/staff/companypage/"
SETTINGS_ADMIN = "/admin/staff/shopsettings/"
SCRIPT = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
SHOWCASE_TABLES = ("staff_companypage", "staff_companypageimage", "staff_shopsettings")


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*") if p.is_file()) if Path(root).exists() else []


def jpeg(size=(900, 600), name="hall.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def company_page(slug="our-story", *, published=True, **fields) -> CompanyPage:
    values = {"title": slug.replace("-", " ").title(), "is_published": published, **fields}
    return CompanyPage.objects.create(slug=slug, **values)


def live_chat(whatsapp="", embed="") -> ShopSettings:
    row, _created = ShopSettings.objects.update_or_create(
        pk=1, defaults={"live_chat_whatsapp": whatsapp, "live_chat_embed": embed}
    )
    return row


def in_role(role: str):
    user = StaffFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


def showcase_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if any(table in q["sql"] for table in SHOWCASE_TABLES)]


# --- The shop -------------------------------------------------------------------------------


class TestTheCompanyPages:
    def test_the_index_lists_the_published_pages_in_their_order(self, client):
        company_page("factory-tour", title="Factory tour", position=2)
        company_page("who-we-are", title="Who we are", summary="Since 2009.", position=1)
        company_page("draft-page", title="Draft page", published=False)

        html = client.get("/company/").content.decode()

        index = html.split('data-testid="company-pages"')[1]
        assert index.index("Who we are") < index.index("Factory tour")
        assert "Since 2009." in index
        assert 'href="/company/who-we-are/"' in index
        assert "Draft page" not in html

    def test_a_page_shows_its_text_in_paragraphs(self, client):
        company_page(
            "who-we-are",
            title="Who we are",
            summary="Bags and tees since 2009.",
            body="We make bags.\nAnd tees.\n\nWe ship worldwide.",
        )
        response = client.get("/company/who-we-are/")
        html = response.content.decode()
        assert response.status_code == 200
        assert "<h1>Who we are</h1>" in html
        assert '<meta name="description" content="Bags and tees since 2009.">' in html
        assert "<p>We make bags.<br>And tees.</p>\n\n<p>We ship worldwide.</p>" in html

    @pytest.mark.parametrize("slug", ["hidden-page", "no-such-page"])
    def test_an_unpublished_or_unknown_page_is_404(self, client, slug):
        company_page("hidden-page", published=False)
        assert client.get(f"/company/{slug}/").status_code == 404

    def test_pictures_load_lazily_with_their_size_and_caption(self, client, media_root):
        page = company_page("factory-tour", kind=CompanyPage.Kind.FACTORY)
        company_image_add(page=page, upload=jpeg(size=(2400, 1600)), caption="Sewing line")
        company_image_add(page=page, upload=jpeg(size=(600, 800)), caption="")

        html = client.get("/company/factory-tour/").content.decode()

        gallery = html.split('data-testid="company-images"')[1].split("</ul>")[0]
        assert 'class="company-gallery"' in html
        images = re.findall(r"<img [^>]+>", gallery)
        assert len(images) == 2
        assert all('loading="lazy"' in img for img in images)
        # Stored scaled down to 1600 px at most, and the page says so.
        assert 'width="1600" height="1067"' in images[0]
        assert 'width="600" height="800"' in images[1]
        assert "<figcaption>Sewing line</figcaption>" in gallery
        assert gallery.count("<figcaption>") == 1

    def test_certificates_are_shown_as_a_grid(self, client, media_root):
        page = company_page("our-certificates", kind=CompanyPage.Kind.CERTIFICATES)
        company_image_add(page=page, upload=jpeg(size=(600, 800)), caption="ISO 9001")
        html = client.get("/company/our-certificates/").content.decode()
        assert '<ul class="company-grid" data-testid="company-images">' in html

    def test_the_contact_page_leads_to_the_inquiry_form(self, client):
        company_page("reach-us", kind=CompanyPage.Kind.CONTACT)
        company_page("who-we-are", kind=CompanyPage.Kind.ABOUT)
        html = client.get("/company/reach-us/").content.decode()
        assert re.search(r'href="/contact/" data-testid="contact-button"', html)
        assert (
            'data-testid="contact-button"'
            not in client.get("/company/who-we-are/").content.decode()
        )

    def test_without_the_inquiry_form_the_contact_page_still_renders(self, client, monkeypatch):
        def no_such_url(name, *args, **kwargs):
            raise NoReverseMatch(name)

        monkeypatch.setattr(showcase_views, "reverse", no_such_url)
        company_page("reach-us", kind=CompanyPage.Kind.CONTACT)
        response = client.get("/company/reach-us/")
        assert response.status_code == 200
        assert 'data-testid="contact-button"' not in response.content.decode()

    def test_what_editors_type_is_escaped(self, client, media_root):
        page = company_page("who-we-are", title=f"Us {SCRIPT}", summary=SCRIPT, body=SCRIPT)
        company_image_add(
            page=page, upload=jpeg(), caption=f'"><img src=x onerror=alert(1)>{SCRIPT}'
        )

        for url in ("/company/", "/company/who-we-are/", "/"):
            html = client.get(url).content.decode()
            assert "<script>alert" not in html, url
            assert "<img src=x" not in html, url
            assert ESCAPED in html, url

    def test_the_pages_cost_no_query_for_a_guest_once_cached(
        self, client, media_root, django_assert_max_num_queries, django_assert_num_queries
    ):
        for n in range(6):
            page = company_page(f"page-{n}", position=n)
            company_image_add(page=page, upload=jpeg(size=(300, 200)), caption=f"Picture {n}")
        # Cold: the pages with their pictures (2), the layout's links and chat (2), the
        # currency switcher's currencies (1).
        with django_assert_max_num_queries(5):
            assert client.get("/company/").status_code == 200
        with django_assert_num_queries(0):
            assert client.get("/company/").status_code == 200
            assert client.get("/company/page-3/").status_code == 200

    def test_the_page_is_mobile_ready(self, client):
        company_page("who-we-are")
        html = client.get("/company/who-we-are/").content.decode()
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert "staff/showcase.css" in html


class TestTheShopLayout:
    def test_links_to_the_published_company_pages(self, client):
        company_page("who-we-are", title="Who we are", position=1)
        company_page("factory-tour", title="Factory tour", position=2)
        company_page("draft-page", title="Draft page", published=False)
        html = client.get("/").content.decode()
        links = html.split('data-testid="company-links"')[1].split("</nav>")[0]
        assert re.findall(r'href="([^"]+)">([^<]+)<', links) == [
            ("/company/who-we-are/", "Who we are"),
            ("/company/factory-tour/", "Factory tour"),
        ]

    def test_no_links_without_published_pages(self, client):
        company_page("draft-page", published=False)
        assert 'data-testid="company-links"' not in client.get("/").content.decode()

    def test_a_shop_page_reads_the_showcase_once_then_from_the_cache(self, buyer_client):
        company_page("who-we-are")
        live_chat(whatsapp="+8613800000000")
        ProductFactory()
        # Read each log before the next request: a request clears the connection's log.
        with CaptureQueriesContext(connection) as cold:
            assert buyer_client.get("/catalog/").status_code == 200
        assert len(showcase_queries(cold.captured_queries)) == 2  # the links, the chat
        with CaptureQueriesContext(connection) as warm:
            html = buyer_client.get("/catalog/").content.decode()
        assert showcase_queries(warm.captured_queries) == []
        warm_count = len(warm.captured_queries)
        assert 'href="/company/who-we-are/"' in html and "https://wa.me/8613800000000" in html
        # The same page without any showcase costs the same once warm.
        CompanyPage.objects.all().delete()
        ShopSettings.objects.all().delete()
        buyer_client.get("/catalog/")
        with CaptureQueriesContext(connection) as bare:
            buyer_client.get("/catalog/")
        assert len(bare.captured_queries) == warm_count

    def test_a_page_published_or_renamed_shows_at_once(self, buyer_client):
        page = company_page("who-we-are", title="Who we are")
        assert "Who we are</a>" in buyer_client.get("/catalog/").content.decode()  # cached
        page.title = "About the company"
        page.save()
        company_page("factory-tour", title="Factory tour")
        html = buyer_client.get("/catalog/").content.decode()
        assert "About the company</a>" in html and "Factory tour</a>" in html
        assert "Who we are</a>" not in html

    def test_the_cached_guest_pages_are_retired_too(
        self, client, django_capture_on_commit_callbacks
    ):
        ProductFactory()
        assert "Factory tour" not in client.get("/").content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            company_page("factory-tour", title="Factory tour")
        assert "Factory tour</a>" in client.get("/").content.decode()

    def test_admin_pages_do_not_read_the_showcase(self, client):
        company_page("who-we-are")
        client.force_login(superuser())
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/admin/").status_code == 200
        assert showcase_queries(queries.captured_queries) == []


class TestTheLiveChat:
    def test_the_whatsapp_link_and_the_widget_are_on_the_home_page(self, client):
        widget = '<script src="https://chat.example/widget.js" data-id="42"></script>'
        live_chat(whatsapp="+8613800000000", embed=widget)
        html = client.get("/").content.decode()
        assert re.search(r'class="live-chat-whatsapp" href="https://wa.me/8613800000000"', html)
        assert widget in html  # trusted configuration, output as is

    def test_nothing_is_shown_without_settings(self, client):
        live_chat()
        assert 'data-testid="live-chat"' not in client.get("/").content.decode()
        ShopSettings.objects.all().delete()
        assert 'data-testid="live-chat"' not in client.get("/").content.decode()

    def test_it_is_not_in_the_admin(self, client):
        live_chat(whatsapp="+8613800000000", embed="<script>window.chat = 1</script>")
        client.force_login(superuser())
        html = client.get("/admin/").content.decode()
        assert "wa.me" not in html and "window.chat" not in html

    def test_a_change_in_the_admin_shows_at_once(self, client):
        live_chat(whatsapp="+8613800000000")
        assert "wa.me/8613800000000" in client.get("/").content.decode()  # now cached
        client.force_login(superuser())
        response = client.post(
            f"{SETTINGS_ADMIN}1/change/", {"live_chat_whatsapp": "+4915112345678"}
        )
        assert response.status_code == 302
        html = client.get("/").content.decode()
        assert "wa.me/4915112345678" in html and "8613800000000" not in html


# --- The admin ------------------------------------------------------------------------------

SETTINGS_URLS = [
    SETTINGS_ADMIN,
    f"{SETTINGS_ADMIN}add/",
    f"{SETTINGS_ADMIN}1/change/",
    f"{SETTINGS_ADMIN}1/history/",
    f"{SETTINGS_ADMIN}1/delete/",
]


class TestTheShopSettingsAdmin:
    @pytest.mark.parametrize(
        "role",
        [roles.MANAGER, roles.FINANCE, roles.EDITOR, roles.SALES, roles.CUSTOMER_SERVICE],
    )
    @pytest.mark.parametrize("url", SETTINGS_URLS)
    def test_only_the_super_admin_gets_in(self, client, role, url):
        live_chat(whatsapp="+8613800000000")
        client.force_login(in_role(role))
        assert client.get(url).status_code == 403
        posted = {"live_chat_whatsapp": "+10000000000", "live_chat_embed": SCRIPT}
        assert client.post(url, posted).status_code == 403
        row = ShopSettings.objects.get()
        assert (row.live_chat_whatsapp, row.live_chat_embed) == ("+8613800000000", "")

    def test_is_not_on_the_editors_admin_index(self, client):
        client.force_login(in_role(roles.EDITOR))
        html = client.get("/admin/").content.decode()
        assert SETTINGS_ADMIN not in html and PAGES_ADMIN in html

    def test_the_super_admin_makes_then_edits_the_one_row(self, client):
        admin = superuser()
        client.force_login(admin)
        assert client.get(SETTINGS_ADMIN).url == f"{SETTINGS_ADMIN}add/"
        form = client.get(f"{SETTINGS_ADMIN}add/").content.decode()
        assert "exactly as written, scripts included" in form

        response = client.post(f"{SETTINGS_ADMIN}add/", {"live_chat_whatsapp": "+8613800000000"})

        assert response.status_code == 302
        row = ShopSettings.objects.get()
        assert (row.pk, row.live_chat_whatsapp, row.updated_by) == (1, "+8613800000000", admin)
        assert client.get(SETTINGS_ADMIN).url == f"{SETTINGS_ADMIN}1/change/"
        assert client.get(f"{SETTINGS_ADMIN}add/").status_code == 403
        assert client.get(f"{SETTINGS_ADMIN}1/delete/").status_code == 403
        assert client.get(f"{SETTINGS_ADMIN}1/change/").status_code == 200

    @pytest.mark.parametrize(
        "number",
        ["+86 138 0000 0000", "0086-13800000000", "wa.me/8613800000000", "+86", "12a45678"],
    )
    def test_a_number_other_than_plus_and_digits_is_refused(self, client, number):
        live_chat(whatsapp="+8613800000000")
        client.force_login(superuser())
        response = client.post(f"{SETTINGS_ADMIN}1/change/", {"live_chat_whatsapp": number})
        assert response.status_code == 200
        assert "using only + and digits" in response.content.decode()
        assert ShopSettings.objects.get().live_chat_whatsapp == "+8613800000000"


def page_form(**overrides) -> dict:
    data = {
        "title": "Our factory",
        "slug": "our-factory",
        "kind": "factory",
        "summary": "Four sewing lines.",
        "body": "We cut, sew and print.\n\nThen we pack.",
        "position": "1",
        "is_published": "on",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "images-0-caption": "Sewing line",
        "images-0-position": "0",
    }
    data.update(overrides)
    return data


class TestTheCompanyPageAdmin:
    @pytest.mark.parametrize("role", [roles.EDITOR, roles.MANAGER])
    def test_editor_and_manager_add_a_page_with_a_picture(self, client, media_root, role):
        client.force_login(in_role(role))
        assert client.get(f"{PAGES_ADMIN}add/").status_code == 200

        response = client.post(
            f"{PAGES_ADMIN}add/", page_form(**{"images-0-image": jpeg(size=(3200, 2400))})
        )

        assert response.status_code == 302, response.content.decode()[:3000]
        page = CompanyPage.objects.get(slug="our-factory")
        (image,) = page.images.all()
        assert image.caption == "Sewing line"
        assert image.image.name.startswith("company/") and image.image.name.endswith(".jpg")
        with Image.open(image.image.path) as stored:
            assert stored.size == (1600, 1200)
        assert [p.name for p in stored_files(media_root)] == [Path(image.image.name).name]
        assert "Sewing line" in client.get("/company/our-factory/").content.decode()

    def test_the_editor_edits_a_page(self, client):
        page = company_page("our-factory", title="Old title")
        client.force_login(in_role(roles.EDITOR))
        data = page_form(title="New title", **{"images-TOTAL_FORMS": "0"})
        response = client.post(f"{PAGES_ADMIN}{page.pk}/change/", data)
        assert response.status_code == 302
        page.refresh_from_db()
        assert page.title == "New title"

    @pytest.mark.parametrize("role", [roles.FINANCE, roles.SALES, roles.CUSTOMER_SERVICE])
    def test_other_roles_cannot_edit_pages(self, client, role):
        page = company_page("our-factory")
        client.force_login(in_role(role))
        assert client.get(PAGES_ADMIN).status_code == 403
        assert client.get(f"{PAGES_ADMIN}{page.pk}/change/").status_code == 403
        assert client.post(f"{PAGES_ADMIN}add/", page_form(slug="x")).status_code == 403
        assert CompanyPage.objects.count() == 1

    def test_a_distributor_is_sent_to_log_in(self, client):
        client.force_login(DistributorFactory().user)
        assert client.get(PAGES_ADMIN).status_code == 302

    def test_the_list_costs_the_same_for_many_pages(
        self, client, media_root, django_assert_max_num_queries
    ):
        client.force_login(in_role(roles.EDITOR))
        counts = []
        for total in (1, 15):
            while CompanyPage.objects.count() < total:
                n = CompanyPage.objects.count()
                page = company_page(f"page-{n}", title=f"{SCRIPT} {n}")
                company_image_add(page=page, upload=jpeg(size=(200, 200)))
            with django_assert_max_num_queries(8) as queries:
                html = client.get(PAGES_ADMIN).content.decode()
            counts.append(len(queries.captured_queries))
            assert "<script>alert" not in html and ESCAPED in html
        assert counts[0] == counts[1]

    def test_the_slug_is_filled_from_the_title(self, client):
        client.force_login(in_role(roles.EDITOR))
        html = client.get(f"{PAGES_ADMIN}add/").content.decode()
        prepopulated = re.search(r'data-prepopulated-fields="([^"]+)"', html).group(1)
        assert "&quot;id&quot;: &quot;#id_slug&quot;" in prepopulated
        assert "&quot;dependency_ids&quot;: [&quot;#id_title&quot;]" in prepopulated


def upload_post(client, upload):
    return client.post(f"{PAGES_ADMIN}add/", page_form(**{"images-0-image": upload}))


class TestUploads:
    """B5: each refused with a reason on the form, nothing stored, no page saved."""

    @pytest.mark.parametrize(
        ("upload", "reason"),
        [
            (
                lambda: SimpleUploadedFile("photo.jpg", b"just some text " * 100, "image/jpeg"),
                "",
            ),
            (lambda: SimpleUploadedFile("bomb.png", png_claiming(8_000, 8_000), "image/png"), ""),
            (
                lambda: SimpleUploadedFile(
                    "logo.svg",
                    b'<svg xmlns="http://www.w3.org/2000/svg" width="500" height="500">'
                    b"<script>alert(1)</script></svg>",
                    "image/svg+xml",
                ),
                "",
            ),
            (lambda: jpeg(size=(40, 40)), "each side must be at least"),
        ],
        ids=["text renamed .jpg", "decompression bomb", "svg with a script", "too small"],
    )
    def test_a_file_that_is_not_a_picture_we_take_is_refused(
        self, client, media_root, upload, reason
    ):
        client.force_login(in_role(roles.EDITOR))
        response = upload_post(client, upload())
        assert response.status_code == 200
        html = response.content.decode()
        assert 'class="errorlist' in html
        assert reason in html
        assert not CompanyPage.objects.exists()
        assert stored_files(media_root) == []

    def test_a_file_over_the_size_cap_is_refused(self, client, media_root, settings):
        settings.WHOLESALE_IMAGE_MAX_BYTES = 2_000
        client.force_login(in_role(roles.EDITOR))
        response = upload_post(client, jpeg())
        assert "images may be at most" in response.content.decode()
        assert not CompanyPage.objects.exists()
        assert stored_files(media_root) == []

    def test_the_service_refuses_a_fake_picture_too(self, media_root):
        page = company_page()
        with pytest.raises(showcase.ValidationError):
            company_image_add(page=page, upload=SimpleUploadedFile("x.jpg", b"not an image"))
        assert not CompanyPageImage.objects.exists()
        assert stored_files(media_root) == []


class TestFilesGoWithTheirRows:
    def test_deleting_a_picture_deletes_its_file(
        self, client, media_root, django_capture_on_commit_callbacks
    ):
        page = company_page("our-factory")
        image = company_image_add(page=page, upload=jpeg())
        client.force_login(in_role(roles.EDITOR))
        data = page_form(
            **{
                "images-TOTAL_FORMS": "1",
                "images-INITIAL_FORMS": "1",
                "images-0-id": str(image.pk),
                "images-0-page": str(page.pk),
                "images-0-DELETE": "on",
            }
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"{PAGES_ADMIN}{page.pk}/change/", data)
        assert response.status_code == 302
        assert not CompanyPageImage.objects.exists()
        assert stored_files(media_root) == []

    def test_deleting_a_page_deletes_its_pictures_files(
        self, media_root, django_capture_on_commit_callbacks
    ):
        page = company_page("our-factory")
        company_image_add(page=page, upload=jpeg())
        company_image_add(page=page, upload=jpeg())
        assert len(stored_files(media_root)) == 2
        with django_capture_on_commit_callbacks(execute=True):
            page.delete()
        assert stored_files(media_root) == []

    def test_a_replaced_picture_leaves_no_file_behind(
        self, client, media_root, django_capture_on_commit_callbacks
    ):
        page = company_page("our-factory")
        image = company_image_add(page=page, upload=jpeg())
        old = Path(image.image.path)
        client.force_login(in_role(roles.EDITOR))
        data = page_form(
            **{
                "images-TOTAL_FORMS": "1",
                "images-INITIAL_FORMS": "1",
                "images-0-id": str(image.pk),
                "images-0-page": str(page.pk),
                "images-0-image": jpeg(size=(500, 500), name="new.jpg"),
            }
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"{PAGES_ADMIN}{page.pk}/change/", data)
        assert response.status_code == 302
        image.refresh_from_db()
        assert not old.exists()
        assert stored_files(media_root) == [Path(image.image.path)]

    def test_a_picture_refused_on_an_existing_page_keeps_the_old_one(self, client, media_root):
        page = company_page("our-factory")
        image = company_image_add(page=page, upload=jpeg())
        before = stored_files(media_root)
        client.force_login(in_role(roles.EDITOR))
        data = page_form(
            **{
                "images-TOTAL_FORMS": "1",
                "images-INITIAL_FORMS": "1",
                "images-0-id": str(image.pk),
                "images-0-page": str(page.pk),
                "images-0-image": SimpleUploadedFile("x.jpg", b"text", "image/jpeg"),
            }
        )
        assert client.post(f"{PAGES_ADMIN}{page.pk}/change/", data).status_code == 200
        assert stored_files(media_root) == before


def test_the_cache_keys_are_dropped_when_a_picture_changes(media_root):
    page = company_page("our-factory")
    showcase.company_pages_published()
    assert cache.get(showcase.PAGES_KEY) is not None
    company_image_add(page=page, upload=jpeg())
    assert cache.get(showcase.PAGES_KEY) is None
    (view,) = showcase.company_pages_published()
    assert len(view.images) == 1
