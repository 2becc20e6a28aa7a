"""The web site's URLs (namespace ``web``)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from exchange.web import delivery
from exchange.web import lineage as web_lineage
from exchange.web.views import (
    accounts,
    after_sales,
    age_keys,
    catalog,
    firm,
    market,
    revisions,
    seller,
    trading,
    webhooks,
)

app_name = "web"

urlpatterns = [
    path("", catalog.catalog, name="catalog"),
    path("listings/<uuid:listing_id>/", catalog.listing_detail, name="listing"),
    path("listings/<uuid:listing_id>/revisions/<uuid:revision_id>/", revisions.revision_detail, name="revision"),
    path("sell/listings/<uuid:listing_id>/versions/", revisions.publish_version, name="listing-publish-version"),
    path("sell/listings/<uuid:listing_id>/edit/", revisions.listing_edit, name="listing-edit"),
    path("sell/listings/<uuid:listing_id>/offers/<uuid:offer_id>/retire/", revisions.offer_retire,
         name="offer-retire"),
    # Accounts
    path("signup/", accounts.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(template_name="exchange/login.html", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Seller
    path("sell/", seller.dataset_list, name="sell"),
    path("sell/datasets/", seller.dataset_list, name="datasets"),
    path("sell/datasets/new/", seller.dataset_new, name="dataset-new"),
    path("sell/datasets/<uuid:dataset_id>/", seller.dataset_detail, name="dataset"),
    path("sell/datasets/<uuid:dataset_id>/declaration/", seller.dataset_declaration, name="dataset-declaration"),
    path("sell/versions/<uuid:version_id>/status.json", seller.version_status, name="version-status"),
    path("sell/versions/<uuid:version_id>/lineage/", web_lineage.version_lineage, name="version-lineage"),
    path("sell/listings/", seller.listing_list, name="listings"),
    path("sell/listings/new/", seller.listing_new, name="listing-new"),
    path("sell/listings/<uuid:listing_id>/", seller.listing_manage, name="listing-manage"),
    path("sell/listings/<uuid:listing_id>/offers/", seller.offer_add, name="offer-add"),
    path("sell/listings/<uuid:listing_id>/submit/", seller.listing_submit, name="listing-submit"),
    path("sell/listings/<uuid:listing_id>/retire/", seller.listing_retire, name="listing-retire"),
    # Deliveries (buyer's "My deliveries"; the download itself needs the buyer firm's session or API key)
    path("deliveries/", delivery.delivery_list, name="deliveries"),
    path("deliveries/<uuid:delivery_id>/", delivery.delivery_detail, name="delivery"),
    path("deliveries/<uuid:delivery_id>/status.json", delivery.delivery_status, name="delivery-status"),
    path("deliveries/<uuid:delivery_id>/download/", delivery.delivery_download, name="delivery-download"),
    path("deliveries/<uuid:delivery_id>/delta-sharing-profile/", delivery.delivery_sharing_profile,
         name="delivery-sharing-profile"),
    path("d/<str:token>", delivery.download, name="download"),
    path("verify/shujiao_verify.py", delivery.verifier_script, name="verifier-script"),
    path("verify/shujiao_verify.py.sha256", delivery.verifier_script_sha256, name="verifier-script-sha256"),
    # Trading: buying (the offer's purchase page), the buyer's requests and contracts
    path("offers/<uuid:offer_id>/buy/", trading.offer_buy, name="offer-buy"),
    path("buy/requests/", trading.my_requests, name="my-requests"),
    path("buy/requests/<uuid:request_id>/cancel/", trading.request_cancel, name="request-cancel"),
    path("buy/contracts/", trading.my_contracts, name="my-contracts"),
    path("buy/contracts/<uuid:contract_id>/pay/", trading.contract_pay, name="contract-pay"),
    path("contracts/<uuid:contract_id>/", trading.contract_detail, name="contract"),
    # After-sales: accept, report a problem, the dispute page, notifications
    path("contracts/<uuid:contract_id>/accept/", after_sales.contract_accept, name="contract-accept"),
    path("contracts/<uuid:contract_id>/report/", after_sales.dispute_new, name="dispute-new"),
    path("disputes/<uuid:dispute_id>/", after_sales.dispute_detail, name="dispute"),
    path("disputes/<uuid:dispute_id>/respond/", after_sales.dispute_respond, name="dispute-respond"),
    path("notifications/", after_sales.notification_list, name="notifications"),
    path("notifications/read/", after_sales.notifications_read, name="notifications-read"),
    # Trading: the seller's incoming requests and sales
    path("sell/requests/", trading.incoming_requests, name="incoming-requests"),
    path("sell/requests/<uuid:request_id>/approve/", trading.request_approve, name="request-approve"),
    path("sell/requests/<uuid:request_id>/reject/", trading.request_reject, name="request-reject"),
    path("sell/sales/", trading.sales, name="sales"),
    # Wallet and public market statistics
    path("firm/wallet/", trading.wallet, name="wallet"),
    path("firm/wallet/top-up/", trading.wallet_topup, name="wallet-topup"),
    path("market/", market.market, name="market"),
    # Firm settings
    path("firm/", firm.firm_settings, name="firm"),
    path("firm/members/", firm.member_add, name="member-add"),
    path("firm/api-keys/", firm.api_key_create, name="api-key-create"),
    path("firm/api-keys/<uuid:key_id>/revoke/", firm.api_key_revoke, name="api-key-revoke"),
    path("firm/age-keys/", age_keys.age_keys, name="age-keys"),
    path("firm/age-keys/add/", age_keys.age_key_add, name="age-key-add"),
    path("firm/age-keys/<uuid:recipient_id>/verify/", age_keys.age_key_verify, name="age-key-verify"),
    path("firm/age-keys/<uuid:recipient_id>/revoke/", age_keys.age_key_revoke, name="age-key-revoke"),
    path("firm/webhooks/", webhooks.webhook_list, name="webhooks"),
    path("firm/webhooks/<uuid:endpoint_id>/", webhooks.webhook_detail, name="webhook"),
    path("firm/webhooks/<uuid:endpoint_id>/enable/", webhooks.webhook_enable, name="webhook-enable"),
    path("firm/webhooks/<uuid:endpoint_id>/disable/", webhooks.webhook_disable, name="webhook-disable"),
    path("firm/webhooks/<uuid:endpoint_id>/rotate/", webhooks.webhook_rotate, name="webhook-rotate"),
    path("firm/webhooks/<uuid:endpoint_id>/messages/<str:msg_id>/replay/", webhooks.webhook_replay,
         name="webhook-replay"),
]
