"""The six follow-up templates of seed 001, one per step, from the tax number and declared
value before dispatch to the after-sales visit. A step that already has a template (the
manager's own, say) is left alone, so running this again adds nothing; reversing it keeps
the templates, which staff may have edited and sent since."""

from django.db import migrations

TEMPLATES = [
    {
        "step": "tax_number",
        "name": "Tax number and declared value",
        "subject": "Order {order_number}: your tax number and the declared value",
        "body": """Dear {customer_name},

Thank you for your order {order_number} of {order_date} ({order_total}).

Before we ship, please help us prepare the customs documents:

1. Your tax number (VAT, EORI or the equivalent in your country). Customs in many countries, \
in the European Union in particular, will not clear a parcel for a business without it.
2. The value you would like us to declare for the goods, and whether the declared value \
should differ from the invoice.

Reply to this email with these details and we will ship your order as soon as it is ready.

Best regards,
{salesperson_name}
{shop_name}
{salesperson_email}""",
    },
    {
        "step": "shipping_notice",
        "name": "Shipping notice",
        "subject": "Order {order_number} has shipped",
        "body": """Dear {customer_name},

Good news: your order {order_number} has left our warehouse with {carrier}.

Tracking number: {tracking_number}
Track your parcel: {tracking_url}
Expected delivery: {eta}

The tracking information may take a day or two to appear on the carrier's website. We will \
keep an eye on the parcel and let you know if anything needs your attention.

Best regards,
{salesperson_name}
{shop_name}
{salesperson_email}""",
    },
    {
        "step": "tracking_update",
        "name": "Tracking update with ETA",
        "subject": "Order {order_number}: tracking update",
        "body": """Dear {customer_name},

A quick update on your order {order_number}: the tracking information for your parcel has \
been updated by {carrier}.

Tracking number: {tracking_number}
Track your parcel: {tracking_url}
Expected delivery: {eta}

If you need the goods by a particular date, let us know and we will do what we can.

Best regards,
{salesperson_name}
{shop_name}
{salesperson_email}""",
    },
    {
        "step": "customs_help",
        "name": "Customs help",
        "subject": "Order {order_number}: please help us clear customs",
        "body": """Dear {customer_name},

Your parcel for order {order_number} (tracking number {tracking_number}, {carrier}) has \
arrived in your country and is waiting for customs clearance.

Customs or the carrier may contact you for your tax number, a signed declaration or the \
payment of import duties. Please respond to them promptly, so that the parcel is not held \
or returned. If they ask for documents from us, such as the commercial invoice, simply \
reply to this email and we will send them the same day.

Track your parcel: {tracking_url}

Best regards,
{salesperson_name}
{shop_name}
{salesperson_email}""",
    },
    {
        "step": "delivery_check",
        "name": "Delivery check",
        "subject": "Order {order_number}: did everything arrive in good condition?",
        "body": """Dear {customer_name},

According to {carrier}, your parcel for order {order_number} has been delivered.

Could you please check that all the goods have arrived complete and in good condition? If \
anything is missing or damaged, reply to this email with a photo of the parcel and of the \
items concerned, and we will put it right.

Best regards,
{salesperson_name}
{shop_name}
{salesperson_email}""",
    },
    {
        "step": "after_sales",
        "name": "After-sales visit",
        "subject": "How are the goods from order {order_number} selling?",
        "body": """Dear {customer_name},

It has been a little while since your order {order_number} arrived, and we would like to \
hear how it is going for {company}.

How are the products selling with your customers? Is there anything we could improve, in \
the products, the packaging or our service? And if you are planning your next order, tell \
us what you need: we are happy to suggest new arrivals and best sellers for your market.

Best regards,
{salesperson_name}
{shop_name}
{salesperson_email}""",
    },
]


def create_templates(apps, schema_editor):
    FollowUpTemplate = apps.get_model("staff", "FollowUpTemplate")
    for position, template in enumerate(TEMPLATES, start=1):
        if not FollowUpTemplate.objects.filter(step=template["step"]).exists():
            FollowUpTemplate.objects.create(position=position * 10, **template)


class Migration(migrations.Migration):
    dependencies = [("staff", "0006_roles_showcase_inquiries")]

    operations = [migrations.RunPython(create_templates, migrations.RunPython.noop)]
