"""Finding 14.12: the OpenAPI component `CategoryRead` stood for two different shapes (bulletin
categories and report categories); ninja names components by class name, so one silently
replaced the other. Every schema class of the project now has its own name."""

from collections import defaultdict

from ninja import Schema


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_schema_class_names_are_unique():
    import grassroots.config.api  # noqa: F401  (imports every app's schemas)

    names = defaultdict(set)
    for cls in _subclasses(Schema):
        if cls.__module__.startswith("grassroots."):
            names[cls.__name__].add(f"{cls.__module__}.{cls.__qualname__}")
    clashes = {n: sorted(where) for n, where in names.items() if len(where) > 1}
    assert not clashes, clashes


def test_category_components_keep_their_shapes(client):
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "ReportCategoryRead" in schemas and "CategoryRead" in schemas
    assert set(schemas["ReportCategoryRead"]["properties"]) != set(
        schemas["CategoryRead"]["properties"]
    )
