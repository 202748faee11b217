"""Notices: in-site messages to an account, and their outbox for SMS and e-mail (ADR 24).

A :class:`Notice` keeps what happened (``kind``) and the message's parameters, never its words: the words are
the translatable template of its kind (``messages.py``), rendered in the reader's language when shown and in
Chinese when sent. The parameters hold masked forms only (a name as "林*", no identity number, no reason text).
A :class:`Delivery` is one message for one channel (SMS, e-mail), sent by the backend ``FUWU_NOTICES`` names for
that channel; attempts and the last error are kept, and a failed send is tried again later.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Audience(models.TextChoices):
    APPLICANT = "applicant", _("申请人一方")
    OFFICER = "officer", _("办理部门")


class Notice(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=48)
    audience = models.CharField(max_length=12, choices=Audience.choices)
    params = models.JSONField(default=dict, blank=True)
    link = models.CharField(max_length=200, blank=True)
    # What it is about, for tests and the audit trail: "applications.application:12".
    subject = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notice_unread")]

    def __str__(self) -> str:
        return f"notice {self.pk} {self.kind} to {self.recipient_id}"


class Channel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Delivery(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # Where it went, masked ("138****5678"): the full address is looked up when sending and never stored here.
    to_masked = models.CharField(max_length=80, blank=True)
    backend = models.CharField(max_length=120, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=200, blank=True, help_text=_("The backend's id for the message."))

    class Meta:
        ordering = ["-next_attempt_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]
        constraints = [
            models.UniqueConstraint(fields=["notice", "channel"], name="one_delivery_per_channel"),
            models.CheckConstraint(condition=~Q(status="sent") | Q(sent_at__isnull=False), name="sent_has_time"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} {self.channel} ({self.status})"
