from datetime import timedelta

from telbill.events.provisioning import LoggingProvisioning, dispatch_provisioning
from telbill.scheduler import advance
from telbill.subscriptions import suspend

from .conftest import T0


def test_lifecycle_drives_provisioning_commands_once(session, clock, subscribe):
    sub = subscribe("mobile-trial", msisdn="+33600000900")
    suspend_at = T0 + timedelta(days=20)
    advance(session, clock, T0 + timedelta(days=15))  # trial ends: already live, no command
    suspend(session, clock, sub.id, at=suspend_at)
    advance(session, clock, suspend_at)
    adapter = LoggingProvisioning()
    dispatch_provisioning(session, adapter, clock=clock)
    dispatch_provisioning(session, adapter, clock=clock)
    mine = [c for c in adapter.commands if c.subscription_id == sub.id]
    assert [c.action for c in mine] == ["activate", "suspend"]
    assert mine[1].effective_at == suspend_at
    assert [s.value for s in mine[0].service_ids] == ["+33600000900"]
