"""Requests: orders (TMF622 style) and subscription specs for bulk creation."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from telbill.core.clock import ensure_utc

IdentifierType = Literal["msisdn", "imsi", "iccid", "line_id"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceIdIn(_Spec):
    type: IdentifierType
    value: str = Field(min_length=1, max_length=40)


class OrderItemCreate(_Spec):
    """One line of an order. add: a new subscription; modify: plan/quantity; delete: cancel.

    An add-on names its plan either as another item of the same order (`parent_item`, its
    position from 0) or as an existing subscription (`parent_subscription_id`).
    """

    action: Literal["add", "modify", "delete"] = "add"
    offer_code: str | None = None
    quantity: int | None = Field(default=None, ge=1)
    service_ids: list[ServiceIdIn] = Field(default_factory=list)
    requested_at: datetime | None = None
    subscription_id: int | None = None
    parent_item: int | None = Field(default=None, ge=0)
    parent_subscription_id: int | None = None

    @field_validator("requested_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else ensure_utc(value)


class OrderCreate(_Spec):
    account: int | str  # id or number (ACC-...)
    items: list[OrderItemCreate] = Field(min_length=1)
    requested_at: datetime | None = None  # default for items without their own date
    external_id: str | None = Field(default=None, max_length=80)

    @field_validator("requested_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else ensure_utc(value)


class SubscriptionSpec(_Spec):
    """One subscription of a bulk load (synthetic data): already validated by its producer."""

    account_id: int
    offer_code: str
    start_at: datetime
    quantity: int = Field(default=1, ge=1)
    service_ids: list[ServiceIdIn] = Field(default_factory=list)

    @field_validator("start_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return ensure_utc(value)
