"""People: the login identity (User, email as login) and their contact Profile."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Role(models.TextChoices):
    """Roles are auth groups of these names; permissions hang off the groups."""

    CANDIDATE = "candidate", "Candidate"
    TRAINER = "trainer", "Trainer of Record"
    STAFF = "staff", "Program staff"
    REVIEWER = "reviewer", "Reviewer"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        Profile.objects.get_or_create(user=user)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("email address", max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can sign in to the staff pages and the admin (two-factor required)."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    # An account that only holds records imported from the earlier system until their owner
    # claims them: inactive, no usable password, an address under the reserved .invalid domain.
    placeholder = models.BooleanField(default=False)
    # Set when staff merge this (duplicate) account into another, or a claim joins it: the
    # account is then inactive and everything it held belongs to `merged_into`.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_accounts"
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Addresses are compared case-insensitively everywhere; store them lowercased.
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    def has_role(self, role: Role | str) -> bool:
        if role == Role.STAFF and self.is_staff:
            return True
        names = getattr(self, "_role_names", None)
        if names is None:
            names = set(self.groups.values_list("name", flat=True))
            self._role_names = names
        return str(role) in names


class Profile(models.Model):
    """Contact details a holder keeps current; the directory shows them only on opt-in."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    company = models.CharField(max_length=200, blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address (line 2)", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True, default="CA")
    postal_code = models.CharField("ZIP code", max_length=20, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    show_contact_in_directory = models.BooleanField(
        "show my company, city, phone and email in the public Qualification Directory",
        default=False,
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class LegacyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
    IN_PROGRESS = "in_progress", "In progress (no certificate yet)"


class LegacyRecord(models.Model):
    """One row of the earlier system's records, as last imported.

    A record with a certificate number became a `Certificate` (its number kept, in canonical form); a
    record without one is a candidate's progress there. `holder` is a placeholder account until
    the person claims the record, then their own account.
    """

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=300)
    email = models.EmailField("email on file", max_length=254, db_index=True)
    certificate_number = models.CharField(max_length=40, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=LegacyStatus.choices)
    progress = models.JSONField(default=list, blank=True, help_text="Step codes done in the earlier system.")
    holder = models.ForeignKey(User, on_delete=models.PROTECT, related_name="legacy_records")
    certificate = models.OneToOneField(
        "certificates.Certificate", null=True, blank=True, on_delete=models.PROTECT, related_name="legacy"
    )
    run = models.ForeignKey(
        "backoffice.ImportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    line = models.PositiveIntegerField(default=0, help_text="The line of the file it last came from.")
    imported_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["certificate_number", "id"]
        constraints = [
            # Re-running an import updates these rows instead of adding new ones.
            models.UniqueConstraint(
                fields=["certificate_number"],
                condition=~models.Q(certificate_number=""),
                name="accounts_legacy_one_per_number",
            ),
            models.UniqueConstraint(
                fields=["program", "email"],
                condition=models.Q(certificate_number=""),
                name="accounts_legacy_one_progress_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certificate_number or 'in progress'}: {self.name}"

    @property
    def is_claimed(self) -> bool:
        return self.claimed_at is not None


class ClaimStatus(models.TextChoices):
    PENDING = "pending", "Waiting for staff"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"


class ClaimRequest(models.Model):
    """A person asks staff to join an earlier-system record to their account, when the email
    link cannot reach them (the address on file is gone)."""

    requester = models.ForeignKey(User, on_delete=models.CASCADE, related_name="claim_requests")
    certificate_number = models.CharField(max_length=40, blank=True)
    email_on_file = models.EmailField("email on file", max_length=254, blank=True)
    explanation = models.TextField()
    record = models.ForeignKey(
        LegacyRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="claim_requests"
    )
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["requester"], condition=models.Q(status="pending"), name="accounts_one_pending_claim"
            )
        ]

    def __str__(self) -> str:
        return f"Claim by {self.requester} ({self.get_status_display()})"
