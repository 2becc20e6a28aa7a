"""A seller's CSV Dialect on the dataset: validated by the service, stored, audited."""

import pytest

from exchange.errors import InvalidInput
from exchange.models import AuditEvent, Dataset
from exchange.services import catalog
from tests.factories import make_dataset


def test_valid_dialect_is_stored(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor, dialect={"delimiter": ";", "header": False})
    dataset.refresh_from_db()
    assert dataset.dialect == {"delimiter": ";", "header": False}


def test_dataset_without_dialect_has_none(make_firm, actor_for):
    dataset = make_dataset(actor_for(make_firm()))
    assert Dataset.objects.get(pk=dataset.pk).dialect == {}


@pytest.mark.parametrize("dialect,message", [
    ({"delimiter": ";", "sheet": 1}, "dialect.sheet: unsupported property"),
    ({"delimiter": "ab"}, "dialect.delimiter must be a single character"),
    ({"header": "no"}, "dialect.header must be true or false"),
    (["delimiter"], "dialect must be a JSON object"),
])
def test_invalid_dialect_refused_naming_the_property_and_nothing_written(make_firm, actor_for, dialect, message):
    actor = actor_for(make_firm())
    with pytest.raises(InvalidInput) as exc:
        make_dataset(actor, dialect=dialect)
    assert any(message in m for m in exc.value.fields["dialect"]), exc.value.fields
    assert Dataset.objects.count() == 0


def test_dialect_update_is_validated_and_audited(make_firm, actor_for):
    actor = actor_for(make_firm())
    dataset = make_dataset(actor)
    with pytest.raises(InvalidInput) as exc:
        catalog.dataset_update(actor=actor, dataset=dataset, dialect={"quoteChar": "''"})
    assert exc.value.fields["dialect"] == ["dialect.quoteChar must be a single character"]
    assert Dataset.objects.get(pk=dataset.pk).dialect == {}
    catalog.dataset_update(actor=actor, dataset=dataset, dialect={"commentChar": "#"})
    assert Dataset.objects.get(pk=dataset.pk).dialect == {"commentChar": "#"}
    event = AuditEvent.objects.filter(action="dataset.updated").latest("id")
    assert "dialect" in event.details["fields"]
