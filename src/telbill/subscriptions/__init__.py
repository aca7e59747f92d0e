"""Subscriptions: orders and the subscription lifecycle (trial, active, suspended, cancelled).

Other contexts use only the names below. Importing this package registers the due-job
sources (scheduled changes, trial ends, contract ends) with the scheduler.
"""

from telbill.subscriptions import jobs as _jobs  # noqa: F401  (registers the job sources)
from telbill.subscriptions.bulk import bulk_create_subscriptions
from telbill.subscriptions.creation import create_subscription
from telbill.subscriptions.lifecycle import State, can_move, check_move
from telbill.subscriptions.orders import get_order, list_orders, order_items, place_order
from telbill.subscriptions.repository import ServiceIdInterval, service_id_intervals, service_id_stamp
from telbill.subscriptions.schemas import OrderCreate, OrderItemCreate, ServiceIdIn, SubscriptionSpec
from telbill.subscriptions.service import (
    activate,
    assign_service_id,
    cancel,
    change_plan,
    change_quantity,
    count_by_state,
    get_subscription,
    has_subscriptions,
    history,
    list_subscriptions,
    release_service_id,
    resume,
    suspend,
)

__all__ = [
    "OrderCreate",
    "OrderItemCreate",
    "ServiceIdIn",
    "ServiceIdInterval",
    "State",
    "SubscriptionSpec",
    "activate",
    "assign_service_id",
    "bulk_create_subscriptions",
    "can_move",
    "cancel",
    "change_plan",
    "change_quantity",
    "check_move",
    "count_by_state",
    "create_subscription",
    "get_order",
    "get_subscription",
    "has_subscriptions",
    "history",
    "list_orders",
    "list_subscriptions",
    "order_items",
    "place_order",
    "release_service_id",
    "resume",
    "service_id_intervals",
    "service_id_stamp",
    "suspend",
]
