"""Web forms: they parse and shape input for one service call, and hold no business rule.

Rules (what a valid price, schema or credit code is) live in the services; a form only
turns text into the types a service takes, and `apply_domain_error` turns a service's
refusal back into form errors.

One module per sub-domain (``common`` is shared by the others and imports none of them);
the public names are re-exported here, so ``from exchange.web.forms import X`` keeps working.
"""

from exchange.web.forms.catalog import ORDERINGS, CatalogFilterForm
from exchange.web.forms.common import YuanField, apply_domain_error, yuan_to_fen
from exchange.web.forms.datasets import (
    DIALECT_PLACEHOLDER,
    SCHEMA_PLACEHOLDER,
    DatasetCreateForm,
    ListingCreateForm,
    RaiDeclarationForm,
    VersionUploadForm,
)
from exchange.web.forms.firm import (
    AgeRecipientAddForm,
    AgeRecipientVerifyForm,
    ApiKeyCreateForm,
    MemberAddForm,
    SignupForm,
    WebhookEndpointForm,
)
from exchange.web.forms.lineage import LineageForm
from exchange.web.forms.offers import OfferCreateForm
from exchange.web.forms.trading import PurchaseForm, RejectForm, SandboxTopupForm

__all__ = [
    "DIALECT_PLACEHOLDER", "ORDERINGS", "SCHEMA_PLACEHOLDER",
    "AgeRecipientAddForm", "AgeRecipientVerifyForm", "ApiKeyCreateForm", "CatalogFilterForm", "DatasetCreateForm",
    "LineageForm", "ListingCreateForm", "MemberAddForm", "OfferCreateForm", "PurchaseForm", "RaiDeclarationForm", "RejectForm",
    "SandboxTopupForm", "SignupForm", "VersionUploadForm", "WebhookEndpointForm", "YuanField",
    "apply_domain_error", "yuan_to_fen",
]
