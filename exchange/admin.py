"""Django admin for exchange staff: review queues, moderation, and the audit trail.

The admin is a face like the web and the REST API: every change goes through the same
services (so it follows the same rules and is audited). Rows are never added, edited or
deleted raw; change forms that exist call a service and show its refusals as form errors.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from exchange.actor import Actor
from exchange.errors import DomainError
from exchange.models import ApiKey, Membership, Organization
from exchange.services.orgs import (
    member_remove,
    member_role_set,
    organization_review,
    organization_update,
)
from exchange.validators import credit_code_problem

admin.site.site_header = "Shujiao 数交 — exchange staff"
admin.site.site_title = "Shujiao staff"
admin.site.index_title = "Review, compliance and audit"
admin.site.index_template = "admin/exchange/index.html"  # the queue counts above the app list


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), required=True,
                             help_text="Shown to the firm and kept in the audit trail.")


def _run_each(modeladmin, request, queryset, fn, done: str) -> None:
    """Apply a service to each selected object; report refusals as admin messages."""
    ok = 0
    for obj in queryset:
        try:
            fn(obj)
            ok += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
    if ok:
        modeladmin.message_user(request, f"{ok} {done}.", messages.SUCCESS)


def _with_form(modeladmin, request, queryset, title: str, form_class, fn, done: str):
    """An action that first asks for input (a reason, an amount) on an intermediate page,
    then applies ``fn(obj, cleaned_data)`` to each selected object."""
    if "apply" in request.POST:
        form = form_class(request.POST)
        if form.is_valid():
            _run_each(modeladmin, request, queryset, lambda obj: fn(obj, form.cleaned_data), done)
            return None
    else:
        form = form_class()
    return render(request, "admin/exchange/reason_form.html", {
        **modeladmin.admin_site.each_context(request), "title": title, "objects": queryset, "form": form,
        "action": request.POST.get("action"), "opts": modeladmin.model._meta,
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
    })


def _with_reason(modeladmin, request, queryset, title: str, fn, done: str):
    """An action that first asks for a reason; ``fn(obj, reason)``."""
    return _with_form(modeladmin, request, queryset, title, ReasonForm,
                      lambda obj, data: fn(obj, data["reason"]), done)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff may look, never add, edit or delete: these rows change only through services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # view-only pages: no SAVE buttons; actions still run from the list

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent; they change only through services."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class ServiceFormAdmin(admin.ModelAdmin):
    """A change form whose SAVE goes through a service: nothing is added or deleted here, and the
    form shows the service's refusals as form errors before anything is written.

    Subclasses name the editable ``fields`` and implement ``check_changes`` (raise ``InvalidInput``,
    write nothing) and ``apply_changes`` (call the service)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def check_changes(self, obj, changes: dict) -> None:
        raise NotImplementedError

    def apply_changes(self, actor: Actor, obj, changes: dict) -> None:
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceCheckedForm(base):
            def clean(self):
                data = super().clean()
                if not self.errors and self.instance.pk is not None:
                    try:
                        model_admin.check_changes(self.instance, _changes(self))
                    except DomainError as exc:
                        for name, problems in (exc.fields or {None: [exc.message]}).items():
                            self.add_error(name if name in self.fields else None, problems)
                return data

        return ServiceCheckedForm

    def save_model(self, request, obj, form, change):
        changes = _changes(form)
        if changes:
            fresh = type(obj).objects.get(pk=obj.pk)  # the form has already written into ``obj``
            self.apply_changes(Actor.from_request(request), fresh, changes)

    def save_related(self, request, form, formsets, change):
        """Inlines here are read-only; there is nothing else to save."""

    def construct_change_message(self, request, form, formsets, add=False):
        return [{"changed": {"fields": sorted(form.changed_data)}}] if form.changed_data else []


def _changes(form) -> dict:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ["user", "role", "created_at"]
    show_change_link = True


@admin.register(Organization)
class OrganizationAdmin(ServiceFormAdmin):
    list_display = ["name", "credit_code", "city", "verification_status", "created_at", "verified_at"]
    list_filter = ["verification_status", "city"]
    search_fields = ["name", "credit_code"]
    fields = ["name", "credit_code", "credit_code_check", "city", "description", "verification_status", "verification_note",
              "verified_at", "created_at"]
    readonly_fields = ["credit_code", "credit_code_check", "verification_status", "verification_note", "verified_at", "created_at"]

    inlines = [MembershipInline]
    actions = ["verify", "reject"]
    change_form_template = "admin/exchange/organization/change_form.html"

    def get_urls(self):
        review = self.admin_site.admin_view(require_POST(self.review_view))
        return [path("<path:object_id>/review/", review, name="exchange_organization_review"), *super().get_urls()]

    def review_view(self, request, object_id):
        """The Verify / Reject buttons of the firm's page: one ``organization_review`` call."""
        org = get_object_or_404(Organization, pk=object_id)
        decision = request.POST.get("decision", "")
        if decision not in ("verify", "reject"):
            self.message_user(request, "Unknown decision.", messages.ERROR)
        else:
            try:
                organization_review(actor=Actor.from_request(request), organization=org, approve=decision == "verify",
                                    note=request.POST.get("reason", ""))
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, f"“{org.name}” {'verified' if decision == 'verify' else 'rejected'}.",
                                  messages.SUCCESS)
        return redirect("admin:exchange_organization_change", org.pk)

    @admin.display(description="Credit code check (GB 32100-2015)")
    def credit_code_check(self, obj):
        problem = credit_code_problem(obj.credit_code or "")
        if problem:
            return format_html("<b style='color:#b42318'>✗ {}</b>", problem)
        return format_html("<b style='color:#1f7a4d'>✓ {}</b>", "check character valid; compare the name with the national registry")

    def check_changes(self, obj, changes):
        pass  # organization_update checks text lengths; the model form has already enforced them

    def apply_changes(self, actor, obj, changes):
        organization_update(actor=actor, organization=obj, **changes)

    @admin.action(description="Verify selected firms")
    def verify(self, request, queryset):
        actor = Actor.from_request(request)
        _run_each(self, request, queryset, lambda o: organization_review(actor=actor, organization=o, approve=True), "firm(s) verified")

    @admin.action(description="Reject selected firms (asks for a reason)")
    def reject(self, request, queryset):
        actor = Actor.from_request(request)
        return _with_reason(self, request, queryset, "Reject firms",
                            lambda o, why: organization_review(actor=actor, organization=o, approve=False, note=why), "firm(s) rejected")


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    """People join a firm by signing up or being added by an owner; staff change roles or remove
    people only through the member services (a firm always keeps an owner)."""

    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "organization__name"]
    actions = ["make_owner", "make_member", "remove"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "organization")

    @admin.action(description="Make selected people owners of their firm")
    def make_owner(self, request, queryset):
        actor = Actor.from_request(request)
        _run_each(self, request, queryset, lambda m: member_role_set(actor=actor, membership=m, role=Membership.Role.OWNER), "made owner")

    @admin.action(description="Make selected people plain members")
    def make_member(self, request, queryset):
        actor = Actor.from_request(request)
        _run_each(self, request, queryset, lambda m: member_role_set(actor=actor, membership=m, role=Membership.Role.MEMBER), "made member")

    @admin.action(description="Remove selected people from their firm (their login is deactivated)")
    def remove(self, request, queryset):
        actor = Actor.from_request(request)
        _run_each(self, request, queryset, lambda m: member_remove(actor=actor, membership=m), "removed")


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "organization", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "organization__name"]
    exclude = ["key_hash"]


# Catalog, audit, trading and delivery register their own ModelAdmins; importing them here lets the
# admin's autodiscovery (which loads only ``exchange.admin``) find them.
from exchange import (  # noqa: E402,F401
    admin_audit,
    admin_catalog,
    admin_delivery,
    admin_disputes,
    admin_lineage,
    admin_revisions,
    admin_trading,
)
