"""``python manage.py signing_key create|rotate|list|retire KID`` — the exchange's Ed25519 signing keys.

Private keys are stored only as PKCS#8 PEM encrypted with SIGNING_KEY_PASSPHRASE (from
the environment); this command never prints one. Every change is audited.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.models import SigningKey
from exchange.services import signing


class Command(BaseCommand):
    help = "Manage the exchange's signing keys (delivery or audit_log): create, rotate, list, retire KID."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "rotate", "list", "retire"])
        parser.add_argument("kid", nargs="?", help="key id (retire only)")
        parser.add_argument("--purpose", choices=[p.value for p in SigningKey.Purpose], default="delivery",
                            help="which key: delivery manifests (default) or audit_log checkpoints")

    def handle(self, *args, action: str, kid: str | None, purpose: str = "delivery", **options):
        actor = Actor.system("manage.py signing_key")
        try:
            if action == "create":
                key = signing.signing_key_create(actor=actor, purpose=purpose)
                self.stdout.write(self.style.SUCCESS(f"created active signing key {key.kid}"))
            elif action == "rotate":
                key = signing.signing_key_rotate(actor=actor, purpose=purpose)
                self.stdout.write(self.style.SUCCESS(f"rotated: {key.kid} is now the active signing key"))
            elif action == "retire":
                if not kid:
                    raise CommandError("retire needs the key id: signing_key retire KID")
                key = signing.signing_key_retire(actor=actor, kid=kid)
                self.stdout.write(self.style.SUCCESS(f"retired {key.kid}; it stays published for verification"))
            else:
                keys = signing.signing_keys_public(purpose=purpose)
                if not keys:
                    self.stdout.write("no signing keys; create one with: python manage.py signing_key create")
                for key in keys:
                    retired = f"  retired {key.retired_at:%Y-%m-%dT%H:%M:%SZ}" if key.retired_at else ""
                    self.stdout.write(f"{key.kid}  {key.status:<8} created {key.created_at:%Y-%m-%dT%H:%M:%SZ}{retired}")
        except DomainError as exc:
            raise CommandError(exc.message) from None
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
