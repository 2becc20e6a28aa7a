"""Typed inputs of the metadata builders: what the Django side hands over, nothing more.

The Responsible-AI declaration's fields are defined once here (:data:`RAI_FIELDS`): the
model, the form, the API serializer and the Croissant writer all read this table, so a
field cannot be added to one face and forgotten in another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


def iso_z(value: datetime | None) -> str | None:
    """``2026-11-27T10:00:00Z``: UTC, whole seconds (naive datetimes are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


@dataclass(frozen=True)
class RaiField:
    """One Croissant RAI property a seller may declare.

    ``attr``: the attribute on :class:`Rai` and the dataset model's column (``rai_`` +
    attr); ``term``: the Croissant RAI vocabulary term (``rai:<term>``); ``max_length``:
    the longest text accepted after normalisation.
    """

    attr: str
    term: str
    label: str
    help: str
    max_length: int


# The annotation / collection facts a buyer of labelled data needs to judge the labels.
# Lengths: a few paragraphs each; long enough for a protocol summary, short enough that
# the listing page and the JSON-LD stay readable (the full protocol belongs in a document).
RAI_FIELDS: tuple[RaiField, ...] = (
    RaiField("data_collection", "dataCollection", "Data collection",
             "How, where and when the raw data was collected.", 4000),
    RaiField("data_annotation_protocol", "dataAnnotationProtocol", "Annotation protocol",
             "Guidelines the labellers followed, how disagreements were resolved, quality control.", 4000),
    RaiField("data_annotation_platform", "dataAnnotationPlatform", "Annotation platform",
             "Tool or platform used for labelling (e.g. in-house tool, Label Studio).", 500),
    RaiField("annotator_demographics", "annotatorDemographics", "Annotator demographics",
             "Who the labellers were (number, language, expertise, region) — aggregate facts only, "
             "never names or contact details.", 2000),
    RaiField("machine_annotation_tools", "machineAnnotationTools", "Machine annotation tools",
             "Models or tools that pre-labelled or labelled data, with versions.", 1000),
    RaiField("personal_sensitive_information", "personalSensitiveInformation",
             "Personal or sensitive information", "Which personal or sensitive information the data "
             "holds (categories, not examples) and how it was minimised or de-identified.", 2000),
    RaiField("data_use_cases", "dataUseCases", "Intended use",
             "Uses the data is fit for, and uses it must not be put to.", 2000),
    RaiField("data_limitations", "dataLimitations", "Known limitations",
             "Coverage gaps, noise, label quality limits.", 2000),
    RaiField("data_biases", "dataBiases", "Known biases",
             "Over- or under-represented groups, sources or label classes.", 2000),
)
RAI_ATTRS: tuple[str, ...] = tuple(f.attr for f in RAI_FIELDS)
# rai:annotationsPerItem: how many labellers saw each item (1 … 100; more is not a labelling protocol).
ANNOTATIONS_PER_ITEM_MAX = 100


@dataclass(frozen=True)
class Rai:
    """A seller's Responsible-AI declaration; empty strings / None are "not declared"."""

    data_collection: str = ""
    data_annotation_protocol: str = ""
    data_annotation_platform: str = ""
    annotator_demographics: str = ""
    machine_annotation_tools: str = ""
    personal_sensitive_information: str = ""
    data_use_cases: str = ""
    data_limitations: str = ""
    data_biases: str = ""
    annotations_per_item: int | None = None

    def declared(self) -> list[tuple[RaiField, str]]:
        """The declared text fields in :data:`RAI_FIELDS` order."""
        return [(f, getattr(self, f.attr)) for f in RAI_FIELDS if getattr(self, f.attr)]

    def is_empty(self) -> bool:
        return not self.declared() and self.annotations_per_item is None


@dataclass(frozen=True)
class Party:
    """A firm named in metadata. ``identifier`` (the unified social credit code) only in
    a buyer's own package, never in public metadata."""

    name: str
    identifier: str = ""
    url: str = ""


@dataclass(frozen=True)
class LabelStats:
    """The label statistics of a version's quality report."""

    column: str
    counts: tuple[tuple[str, int], ...]  # (label, rows) in declared order, then by count
    rows: int
    missing: int = 0
    outside_set: int = 0
    conflicts: int = 0
    imbalance_ratio: float | None = None


@dataclass(frozen=True)
class TextLayout:
    """How a delimited text file is written, as the quality check found it."""

    encoding: str = "utf-8"      # "utf-8", "utf-8-sig" (BOM) or "gb18030"
    delimiter: str = ","
    header: bool = True


@dataclass(frozen=True)
class DataFile:
    """A delivered file: its path in the package (``data/…``), size and SHA-256."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Licence:
    """What the dataset is licensed under: a name, and where the text is (a URL or a
    path relative to the package root such as ``LICENSE.txt``)."""

    name: str
    url: str = ""
    path: str = ""


@dataclass(frozen=True)
class Offer:
    """A public offer of a listing (schema.org ``Offer``); the price in fen."""

    name: str
    price_fen: int
    currency: str = "CNY"


@dataclass(frozen=True)
class DatasetMeta:
    """Everything the builders describe about one dataset version.

    ``schema`` is the dataset's Frictionless Table Schema (with the exchange's extensions
    ``labelField``/``labels``); ``format`` the stored format (csv, tsv, jsonl, parquet).
    ``url``: the public listing page. Texts are as the seller wrote them (validated on
    the Django side); the builders only structure them.
    """

    listing_id: str
    version_id: str
    name: str
    description: str
    url: str
    creator: Party
    publisher: Party
    format: str
    schema: dict
    version: int
    kind: str = "labelled"
    category: str = ""
    keywords: tuple[str, ...] = ()
    licence: Licence | None = None
    date_published: datetime | None = None
    date_modified: datetime | None = None
    row_count: int | None = None
    byte_size: int | None = None
    sha256: str = ""
    contains_personal_data: bool = False
    legal_basis: str = ""
    # The quality check's personal-data hits per kind (mobile, email, resident_id, bank_card), if checked.
    pii_counts: tuple[tuple[str, int], ...] | None = None
    layout: TextLayout = field(default_factory=TextLayout)
    label_stats: LabelStats | None = None
    rai: Rai = field(default_factory=Rai)
    offers: tuple[Offer, ...] = ()
