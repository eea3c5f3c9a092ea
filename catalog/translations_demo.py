"""The demo shop's catalog texts in the other interface languages (manage.py seed_demo).

Machine quality, to be reviewed: the names and descriptions of the demo's categories, and the
names of the products its home page shows (new arrivals, best sellers) and a few more, with
one shared description per language. The other products keep their English texts, which
shows the fallback.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from .cache import bump_catalog_version
from .models import Category, CategoryTranslation, Product, ProductTranslation
from .services import product_search_refresh
from .translations import translation_languages

LANGUAGES = ("es", "fr", "de", "ru", "pl", "pt-br")

# category slug: (name, description) in the order of LANGUAGES
CATEGORIES = {
    "apparel": (
        ("Ropa", "Básicos lisos y estampados para impresión bajo demanda y boutiques."),
        ("Vêtements", "Basiques unis et imprimés pour l'impression à la demande et les boutiques."),
        ("Bekleidung", "Unbedruckte und bedruckte Basics für Print-on-Demand und Boutiquen."),
        ("Одежда", "Базовая одежда без принта и с принтом для печати по запросу и бутиков."),
        ("Odzież", "Gładkie i zadrukowane podstawy dla druku na żądanie i butików."),
        ("Vestuário", "Básicos lisos e estampados para impressão sob demanda e boutiques."),
    ),
    "t-shirts": (
        ("Camisetas", "Camisetas de algodón y mezcla en colores básicos."),
        ("T-shirts", "T-shirts en coton et en mélange dans les couleurs essentielles."),
        ("T-Shirts", "T-Shirts aus Baumwolle und Mischgewebe in Grundfarben."),
        ("Футболки", "Футболки из хлопка и смесовых тканей в базовых цветах."),
        ("Koszulki", "Koszulki z bawełny i mieszanek w podstawowych kolorach."),
        ("Camisetas", "Camisetas de algodão e mescla nas cores básicas."),
    ),
    "hoodies": (
        ("Sudaderas con capucha", "Sudaderas de forro polar y felpa francesa."),
        ("Sweats à capuche", "Sweats à capuche en polaire et en molleton."),
        ("Hoodies", "Hoodies aus Fleece und French Terry."),
        ("Худи", "Худи из флиса и футера."),
        ("Bluzy z kapturem", "Bluzy z kapturem z polaru i dresówki pętelkowej."),
        ("Moletons com capuz", "Moletons de fleece e moletinho."),
    ),
    "bags": (
        ("Bolsos", "Bolsas tote, mochilas y neceseres."),
        ("Sacs", "Tote bags, sacs à dos et pochettes."),
        ("Taschen", "Tragetaschen, Rucksäcke und Beutel."),
        ("Сумки", "Сумки-шоперы, рюкзаки и косметички."),
        ("Torby", "Torby na zakupy, plecaki i saszetki."),
        ("Bolsas", "Ecobags, mochilas e necessaires."),
    ),
    "phone-accessories": (
        ("Accesorios para móviles", "Fundas, cables, cargadores y soportes."),
        ("Accessoires de téléphone", "Coques, câbles, chargeurs et supports."),
        ("Handyzubehör", "Hüllen, Kabel, Ladegeräte und Halterungen."),
        ("Аксессуары для телефонов", "Чехлы, кабели, зарядные устройства и держатели."),
        ("Akcesoria do telefonów", "Etui, kable, ładowarki i uchwyty."),
        ("Acessórios para celular", "Capas, cabos, carregadores e suportes."),
    ),
    "home-kitchen": (
        ("Hogar y cocina", "Menaje de cocina y artículos para el hogar de uso diario."),
        ("Maison et cuisine", "Ustensiles de cuisine et articles de maison du quotidien."),
        ("Haus & Küche", "Küchenhelfer und Haushaltswaren für jeden Tag."),
        ("Дом и кухня", "Повседневная кухонная утварь и товары для дома."),
        ("Dom i kuchnia", "Codzienne akcesoria kuchenne i artykuły domowe."),
        ("Casa e cozinha", "Utensílios de cozinha e utilidades domésticas do dia a dia."),
    ),
    "jewelry": (
        ("Bisutería", "Bisutería de acero inoxidable y chapada."),
        ("Bijoux", "Bijoux fantaisie en acier inoxydable et plaqués."),
        ("Schmuck", "Modeschmuck aus Edelstahl, vergoldet und versilbert."),
        ("Бижутерия", "Бижутерия из нержавеющей стали и с покрытием."),
        ("Biżuteria", "Biżuteria modowa ze stali nierdzewnej i platerowana."),
        ("Bijuterias", "Bijuterias de aço inoxidável e folheadas."),
    ),
    "toys": (
        ("Juguetes", "Juguetes sensoriales, peluches y juegos de construcción."),
        ("Jouets", "Jouets sensoriels, peluches et jeux de construction."),
        ("Spielzeug", "Sensorisches Spielzeug, Plüschtiere und Bausätze."),
        ("Игрушки", "Сенсорные и плюшевые игрушки, конструкторы."),
        ("Zabawki", "Zabawki sensoryczne, pluszaki i zestawy konstrukcyjne."),
        ("Brinquedos", "Brinquedos sensoriais, pelúcias e blocos de montar."),
    ),
    "beauty-tools": (
        ("Accesorios de belleza", "Brochas, rodillos y accesorios para el cabello."),
        ("Accessoires beauté", "Pinceaux, rouleaux et accessoires pour cheveux."),
        ("Beauty-Zubehör", "Pinsel, Roller und Haarschmuck."),
        ("Инструменты для красоты", "Кисти, роллеры и аксессуары для волос."),
        ("Akcesoria kosmetyczne", "Pędzle, rollery i akcesoria do włosów."),
        ("Acessórios de beleza", "Pincéis, rolos e acessórios para cabelo."),
    ),
    "pet-supplies": (
        ("Artículos para mascotas", "Collares, comederos y juguetes para gatos y perros."),
        ("Animalerie", "Colliers, gamelles et jouets pour chats et chiens."),
        ("Heimtierbedarf", "Halsbänder, Näpfe und Spielzeug für Katzen und Hunde."),
        ("Товары для животных", "Ошейники, миски и игрушки для кошек и собак."),
        ("Akcesoria dla zwierząt", "Obroże, miski i zabawki dla kotów i psów."),
        ("Pet shop", "Coleiras, comedouros e brinquedos para gatos e cães."),
    ),
    "stationery": (
        ("Papelería", "Cuadernos, bolígrafos y accesorios de escritorio."),
        ("Papeterie", "Carnets, stylos et accessoires de bureau."),
        ("Schreibwaren", "Notizbücher, Stifte und Schreibtischzubehör."),
        ("Канцтовары", "Блокноты, ручки и настольные аксессуары."),
        ("Artykuły papiernicze", "Notesy, długopisy i akcesoria na biurko."),
        ("Papelaria", "Cadernos, canetas e acessórios de mesa."),
    ),
    "sports": (
        ("Deportes", "Accesorios de fitness para casa y gimnasio."),
        ("Sport", "Accessoires de fitness pour la maison et la salle de sport."),
        ("Sport", "Fitnesszubehör für Zuhause und das Studio."),
        ("Спорт", "Фитнес-аксессуары для дома и спортзала."),
        ("Sport", "Akcesoria fitness do domu i na siłownię."),
        ("Esportes", "Acessórios de fitness para casa e academia."),
    ),
}

# the product's English name (its slug is made from it): its names in the order of LANGUAGES
PRODUCTS = {
    "Heavyweight Cotton Tee": (
        "Camiseta de algodón grueso",
        "T-shirt épais en coton",
        "Schweres Baumwoll-T-Shirt",
        "Плотная хлопковая футболка",
        "Gruba bawełniana koszulka",
        "Camiseta de algodão pesado",
    ),
    "Oversized Drop-shoulder Tee": (
        "Camiseta oversize de hombro caído",
        "T-shirt oversize épaules tombantes",
        "Oversize-T-Shirt mit überschnittenen Schultern",
        "Футболка оверсайз со спущенным плечом",
        "Koszulka oversize z obniżonym ramieniem",
        "Camiseta oversized ombro caído",
    ),
    "Organic Cotton Crew Tee": (
        "Camiseta de algodón orgánico",
        "T-shirt col rond en coton bio",
        "Rundhals-T-Shirt aus Bio-Baumwolle",
        "Футболка из органического хлопка",
        "Koszulka z bawełny organicznej",
        "Camiseta gola careca de algodão orgânico",
    ),
    "Kids Graphic Tee": (
        "Camiseta infantil estampada",
        "T-shirt imprimé enfant",
        "Kinder-T-Shirt mit Print",
        "Детская футболка с принтом",
        "Koszulka dziecięca z nadrukiem",
        "Camiseta infantil estampada",
    ),
    "Fleece Pullover Hoodie": (
        "Sudadera de forro polar con capucha",
        "Sweat à capuche en polaire",
        "Fleece-Kapuzenpullover",
        "Флисовое худи",
        "Polarowa bluza z kapturem",
        "Moletom de fleece com capuz",
    ),
    "Zip-up Hoodie": (
        "Sudadera con capucha y cremallera",
        "Sweat zippé à capuche",
        "Kapuzenjacke mit Reißverschluss",
        "Худи на молнии",
        "Bluza z kapturem na zamek",
        "Moletom com capuz e zíper",
    ),
    "Tie-dye Hoodie": (
        "Sudadera con capucha tie-dye",
        "Sweat à capuche tie-dye",
        "Batik-Hoodie",
        "Худи тай-дай",
        "Bluza z kapturem tie-dye",
        "Moletom com capuz tie-dye",
    ),
    "Canvas Tote Bag": (
        "Bolsa tote de lona",
        "Tote bag en toile",
        "Canvas-Tragetasche",
        "Холщовая сумка-шопер",
        "Płócienna torba na zakupy",
        "Ecobag de lona",
    ),
    "Laptop Backpack": (
        "Mochila para portátil",
        "Sac à dos pour ordinateur portable",
        "Laptop-Rucksack",
        "Рюкзак для ноутбука",
        "Plecak na laptopa",
        "Mochila para notebook",
    ),
    "Cosmetic Pouch": (
        "Neceser",
        "Trousse de maquillage",
        "Kosmetiktasche",
        "Косметичка",
        "Kosmetyczka",
        "Necessaire",
    ),
    "Silicone Phone Case": (
        "Funda de silicona para móvil",
        "Coque de téléphone en silicone",
        "Silikon-Handyhülle",
        "Силиконовый чехол для телефона",
        "Silikonowe etui na telefon",
        "Capa de silicone para celular",
    ),
    "Ceramic Coffee Mug": (
        "Taza de cerámica para café",
        "Mug à café en céramique",
        "Keramik-Kaffeebecher",
        "Керамическая кофейная кружка",
        "Ceramiczny kubek do kawy",
        "Caneca de cerâmica para café",
    ),
    "Collapsible Colander": (
        "Escurridor plegable",
        "Passoire pliable",
        "Faltbares Sieb",
        "Складной дуршлаг",
        "Składany durszlak",
        "Escorredor dobrável",
    ),
    "Insulated Water Bottle": (
        "Botella térmica",
        "Gourde isotherme",
        "Isolierte Trinkflasche",
        "Термобутылка для воды",
        "Butelka termiczna",
        "Garrafa térmica",
    ),
    "Stainless Huggie Earrings": (
        "Pendientes huggie de acero inoxidable",
        "Boucles d'oreilles huggie en acier inoxydable",
        "Huggie-Ohrringe aus Edelstahl",
        "Серьги-хаги из нержавеющей стали",
        "Kolczyki huggie ze stali nierdzewnej",
        "Brincos huggie de aço inoxidável",
    ),
    "Anklet Chain": (
        "Cadena tobillera",
        "Chaîne de cheville",
        "Fußkettchen",
        "Цепочка на щиколотку",
        "Łańcuszek na kostkę",
        "Tornozeleira de corrente",
    ),
    "Plush Axolotl": (
        "Ajolote de peluche",
        "Axolotl en peluche",
        "Plüsch-Axolotl",
        "Плюшевый аксолотль",
        "Pluszowy aksolotl",
        "Axolote de pelúcia",
    ),
    "Jade Face Roller": (
        "Rodillo facial de jade",
        "Rouleau de jade pour le visage",
        "Jade-Gesichtsroller",
        "Нефритовый роллер для лица",
        "Nefrytowy roller do twarzy",
        "Rolo facial de jade",
    ),
    "Reflective Dog Collar": (
        "Collar reflectante para perro",
        "Collier réfléchissant pour chien",
        "Reflektierendes Hundehalsband",
        "Светоотражающий ошейник для собак",
        "Odblaskowa obroża dla psa",
        "Coleira refletiva para cachorro",
    ),
    "Dog Poop Bag Holder": (
        "Dispensador de bolsas para perro",
        "Distributeur de sacs à crottes",
        "Kotbeutelspender",
        "Диспенсер для пакетов для выгула собак",
        "Pojemnik na woreczki na psie odchody",
        "Porta saquinhos para cachorro",
    ),
    "Canvas Pencil Case": (
        "Estuche de lona",
        "Trousse en toile",
        "Federmäppchen aus Canvas",
        "Пенал из холста",
        "Piórnik z płótna",
        "Estojo de lona",
    ),
    "Washi Tape Set": (
        "Set de cintas washi",
        "Lot de washi tapes",
        "Washi-Tape-Set",
        "Набор декоративного скотча васи",
        "Zestaw taśm washi",
        "Kit de fitas washi",
    ),
    "Non-slip Yoga Mat": (
        "Esterilla de yoga antideslizante",
        "Tapis de yoga antidérapant",
        "Rutschfeste Yogamatte",
        "Нескользящий коврик для йоги",
        "Antypoślizgowa mata do jogi",
        "Tapete de yoga antiderrapante",
    ),
    "Resistance Band Set": (
        "Set de bandas de resistencia",
        "Lot de bandes de résistance",
        "Widerstandsband-Set",
        "Набор резинок для фитнеса",
        "Zestaw gum oporowych",
        "Kit de faixas elásticas",
    ),
    "Speed Jump Rope": (
        "Comba de velocidad",
        "Corde à sauter de vitesse",
        "Speed-Springseil",
        "Скоростная скакалка",
        "Skakanka szybkościowa",
        "Corda de pular de velocidade",
    ),
    "Gym Shaker Bottle": (
        "Botella mezcladora para gimnasio",
        "Shaker de sport",
        "Fitness-Shaker",
        "Шейкер для спортзала",
        "Shaker na siłownię",
        "Coqueteleira para academia",
    ),
}

# One description per language for the translated products, in the order of LANGUAGES.
DESCRIPTIONS = (
    "Un artículo que nuestros compradores vuelven a pedir cada mes. Combine las variantes "
    "libremente: los precios por cantidad cuentan todas las variantes juntas. Se envía en "
    "bolsas listas para la venta con etiqueta de código de barras; las fotos del producto y "
    "un kit para publicarlo se descargan gratis.",
    "Un article que nos acheteurs recommandent chaque mois. Mélangez librement les "
    "variantes : les prix par quantité comptent toutes les variantes ensemble. Expédié en "
    "sachets prêts à la vente avec étiquette code-barres ; les photos du produit et un kit "
    "de mise en ligne se téléchargent gratuitement.",
    "Ein Artikel, den unsere Käufer jeden Monat nachbestellen. Varianten frei kombinieren: "
    "Mengenpreise zählen alle Varianten zusammen. Versand in verkaufsfertigen Polybeuteln "
    "mit Barcode-Etikett; Produktfotos und ein Listing-Kit gibt es kostenlos zum Download.",
    "Товар, который наши покупатели заказывают каждый месяц. Смешивайте варианты свободно: "
    "оптовые цены считаются по всем вариантам вместе. Поставляется в готовой к продаже "
    "упаковке со штрихкодом; фото товара и набор для размещения можно скачать бесплатно.",
    "Produkt, który nasi klienci zamawiają co miesiąc. Łącz warianty dowolnie: ceny "
    "hurtowe liczone są dla wszystkich wariantów razem. Wysyłka w woreczkach gotowych do "
    "sprzedaży z etykietą z kodem kreskowym; zdjęcia produktu i pakiet do wystawienia "
    "oferty można pobrać za darmo.",
    "Um item que nossos compradores pedem todo mês. Combine as variantes à vontade: os "
    "preços por quantidade contam todas as variantes juntas. Enviado em embalagens prontas "
    "para venda com etiqueta de código de barras; as fotos do produto e um kit para anúncio "
    "podem ser baixados grátis.",
)


def translations_seed_demo() -> int:
    """Add the demo's translations that are missing (in the languages the shop has); returns
    how many were made. A second run only reads."""
    languages = [
        (index, code)
        for index, code in enumerate(LANGUAGES)
        if code in {c for c, _name in translation_languages()}
    ]
    categories = dict(Category.objects.filter(slug__in=CATEGORIES).values_list("slug", "pk"))
    have = set(
        CategoryTranslation.objects.filter(category_id__in=categories.values()).values_list(
            "category_id", "language"
        )
    )
    new_categories = [
        CategoryTranslation(
            category_id=pk,
            language=code,
            name=CATEGORIES[slug][index][0],
            description=CATEGORIES[slug][index][1],
        )
        for slug, pk in categories.items()
        for index, code in languages
        if (pk, code) not in have
    ]
    by_slug = {slugify(name): names for name, names in PRODUCTS.items()}
    products = dict(Product.objects.filter(slug__in=by_slug).values_list("slug", "pk"))
    have = set(
        ProductTranslation.objects.filter(product_id__in=products.values()).values_list(
            "product_id", "language"
        )
    )
    new_products = [
        ProductTranslation(
            product_id=pk,
            language=code,
            name=by_slug[slug][index],
            description=DESCRIPTIONS[index],
        )
        for slug, pk in products.items()
        for index, code in languages
        if (pk, code) not in have
    ]
    if not new_categories and not new_products:
        return 0
    with transaction.atomic():
        # bulk_create sends no signals: refresh the search and the cache here instead.
        CategoryTranslation.objects.bulk_create(new_categories)
        ProductTranslation.objects.bulk_create(new_products)
        product_search_refresh(product_ids={t.product_id for t in new_products})
        bump_catalog_version()
    return len(new_categories) + len(new_products)
