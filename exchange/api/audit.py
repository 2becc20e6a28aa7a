"""The audit transparency log over REST (SPEC §11): a firm's own events with their canonical
bytes and inclusion proofs, consistency proofs between any two tree sizes, the latest
checkpoint. Hashes are hex by default, base64 with ``?encoding=base64``."""

from __future__ import annotations

import base64

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from exchange.api.views import FirmViewMixin
from exchange.models import AuditEvent
from exchange.selectors import audit as audit_sel
from exchange.services import transparency


class EncodingIn(serializers.Serializer):
    encoding = serializers.ChoiceField(choices=["hex", "base64"], default="hex", help_text="How hashes are written.")


def _encoder(request):
    data = EncodingIn(data=request.query_params)
    data.is_valid(raise_exception=True)
    if data.validated_data["encoding"] == "base64":
        return lambda h: base64.b64encode(h).decode("ascii")
    return lambda h: h.hex()


class AuditEventOut(serializers.ModelSerializer):
    leaf_index = serializers.SerializerMethodField(help_text="This event's leaf in the Merkle tree (seq - 1).")

    class Meta:
        model = AuditEvent
        fields = ["seq", "leaf_index", "created_at", "actor_type", "actor_label", "action", "object_type",
                  "object_id", "details", "prev_hash", "hash"]

    def get_leaf_index(self, obj) -> int:
        return obj.seq - 1


class AuditEventDetailOut(AuditEventOut):
    canonical = serializers.SerializerMethodField(
        help_text="The event's canonical bytes (UTF-8): SHA-256 of them is `hash`, SHA-256(0x00 ‖ them) its leaf hash.")
    canonical_base64 = serializers.SerializerMethodField()

    class Meta(AuditEventOut.Meta):
        fields = [*AuditEventOut.Meta.fields, "canonical", "canonical_base64"]

    def get_canonical(self, obj) -> str:
        return transparency.leaf_data(obj).decode("utf-8")

    def get_canonical_base64(self, obj) -> str:
        return base64.b64encode(transparency.leaf_data(obj)).decode("ascii")


class ProofQuery(EncodingIn):
    tree_size = serializers.IntegerField(min_value=0, required=False,
                                         help_text="Size of the tree to prove against (default: the latest checkpoint's).")


class ConsistencyQuery(EncodingIn):
    old_size = serializers.IntegerField(min_value=0)
    new_size = serializers.IntegerField(min_value=0, required=False,
                                        help_text="Default: the latest checkpoint's size.")


class ProofOut(serializers.Serializer):
    seq = serializers.IntegerField()
    index = serializers.IntegerField(help_text="Leaf index (seq - 1).")
    tree_size = serializers.IntegerField()
    leaf_hash = serializers.CharField()
    hashes = serializers.ListField(child=serializers.CharField(), help_text="The audit path, leaf to root.")
    root = serializers.CharField()
    checkpoint = serializers.CharField(allow_null=True, help_text="The signed checkpoint of tree_size, if defaulted.")


class ConsistencyOut(serializers.Serializer):
    old_size = serializers.IntegerField()
    new_size = serializers.IntegerField()
    old_root = serializers.CharField()
    new_root = serializers.CharField()
    hashes = serializers.ListField(child=serializers.CharField())
    checkpoint = serializers.CharField(allow_null=True, help_text="The signed checkpoint of new_size, if defaulted.")


class CheckpointOut(serializers.Serializer):
    tree_size = serializers.IntegerField()
    root = serializers.CharField(help_text="base64, as in the checkpoint")
    note = serializers.CharField(help_text="The signed note (C2SP tlog-checkpoint).")
    verifier_keys = serializers.ListField(child=serializers.CharField())


@extend_schema(tags=["audit"])
class AuditEventViewSet(FirmViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Audit events about your firm, with canonical bytes and inclusion proofs."""

    lookup_field = "seq"
    lookup_value_regex = r"[0-9]{1,18}"
    serializer_class = AuditEventOut
    filterset_fields = ["action"]
    ordering_fields = ["seq"]

    def get_queryset(self):
        if self.schema_only:
            return AuditEvent.objects.none()
        return audit_sel.audit_events_of(self.firm)

    def get_serializer_class(self):
        return AuditEventDetailOut if self.action == "retrieve" else AuditEventOut

    @extend_schema(parameters=[ProofQuery], responses=ProofOut)
    @action(detail=True, methods=["get"])
    def proof(self, request, seq=None):
        """Inclusion proof (RFC 6962 §2.1.1) of this event in the tree of ``tree_size`` events."""
        event = self.get_object()
        query = ProofQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        enc = _encoder(request)
        size = query.validated_data.get("tree_size")
        checkpoint = None
        if size is None:
            checkpoint = transparency.checkpoint_covering(event.seq)
            size = checkpoint.tree_size
        proof = transparency.inclusion_proof(seq=event.seq, size=size)
        return Response({
            "seq": event.seq, "index": proof["index"], "tree_size": proof["tree_size"],
            "leaf_hash": enc(proof["leaf_hash"]), "hashes": [enc(h) for h in proof["hashes"]],
            "root": enc(proof["root"]), "checkpoint": checkpoint.note if checkpoint is not None else None,
        })


@extend_schema(tags=["audit"], parameters=[ConsistencyQuery], responses=ConsistencyOut)
class ConsistencyView(APIView):
    """Consistency proof (RFC 6962 §2.1.2) between two tree sizes. Public: it holds only hashes."""

    permission_classes = [AllowAny]

    def get(self, request):
        query = ConsistencyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        enc = _encoder(request)
        new_size = query.validated_data.get("new_size")
        checkpoint = None
        if new_size is None:
            checkpoint = transparency.checkpoint_published()
            new_size = checkpoint.tree_size
        proof = transparency.consistency_proof(old_size=query.validated_data["old_size"], new_size=new_size)
        return Response({
            "old_size": proof["old_size"], "new_size": proof["new_size"], "old_root": enc(proof["old_root"]),
            "new_root": enc(proof["new_root"]), "hashes": [enc(h) for h in proof["hashes"]],
            "checkpoint": checkpoint.note if checkpoint is not None else None,
        })


@extend_schema(tags=["audit"], responses=CheckpointOut)
class CheckpointView(APIView):
    """The latest signed checkpoint and the log's verifier keys. Public."""

    permission_classes = [AllowAny]

    def get(self, request):
        checkpoint = transparency.checkpoint_published()
        return Response({"tree_size": checkpoint.tree_size, "root": base64.b64encode(bytes(checkpoint.root_hash)).decode(),
                         "note": checkpoint.note, "verifier_keys": transparency.verifier_keys()})
