"""accounts context: customers, billing accounts in a tree, contacts, billing preferences.

Other contexts use only the names below. Services take a session and a clock, append outbox
events in the caller's transaction and never commit.
"""

from telbill.accounts.bulk import CreatedAccount, bulk_create_accounts
from telbill.accounts.changes import (
    change_bill_cycle,
    cycle_history,
    cycle_in_force,
    move_account,
    update_preferences,
)
from telbill.accounts.hierarchy import MAX_DEPTH
from telbill.accounts.model import BillingAccount, BillingAccountCycleChange, Contact, Customer
from telbill.accounts.rules import SUPPORTED_LANGUAGES
from telbill.accounts.schemas import (
    Address,
    BillingAccountCreate,
    CommunicationPreference,
    ContactCreate,
    CustomerCreate,
    NewCustomerAccount,
    PreferencesUpdate,
    TaxExemption,
    parse_spec,
)
from telbill.accounts.service import (
    HasSubscriptions,
    add_contact,
    count_accounts,
    create_billing_account,
    create_customer,
    get_account_by_number,
    get_customer,
    get_customer_by_number,
    list_accounts,
    list_contacts,
)
from telbill.accounts.tree import (
    AccountNode,
    account_tree,
    ancestors,
    consolidated_children,
    descendants,
    get_account,
    payer_of,
)

__all__ = [
    "MAX_DEPTH",
    "SUPPORTED_LANGUAGES",
    "AccountNode",
    "Address",
    "BillingAccount",
    "BillingAccountCreate",
    "BillingAccountCycleChange",
    "CommunicationPreference",
    "Contact",
    "ContactCreate",
    "CreatedAccount",
    "Customer",
    "CustomerCreate",
    "HasSubscriptions",
    "NewCustomerAccount",
    "PreferencesUpdate",
    "TaxExemption",
    "account_tree",
    "add_contact",
    "ancestors",
    "bulk_create_accounts",
    "change_bill_cycle",
    "consolidated_children",
    "count_accounts",
    "create_billing_account",
    "create_customer",
    "cycle_history",
    "cycle_in_force",
    "descendants",
    "get_account",
    "get_account_by_number",
    "get_customer",
    "get_customer_by_number",
    "list_accounts",
    "list_contacts",
    "move_account",
    "parse_spec",
    "payer_of",
    "update_preferences",
]
