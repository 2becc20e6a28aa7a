from tests.delivery.conftest import build_now, paid_contract, ready_delivery, signing_key  # noqa: F401
