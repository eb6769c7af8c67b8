"""Portal tasks: what the app checks with a portal before it believes an event (DESIGN §5)."""
from __future__ import annotations

from shared.clients.errors import TransientError
from shared.jobs import CONFIRM_UNINSTALL_TASK, UNINSTALL_CHECK_FLAG
from shared.services.uninstall import confirm_uninstall as confirm

from ..celery_app import app
from ..context import bitrix_access


@app.task(name=CONFIRM_UNINSTALL_TASK, autoretry_for=(TransientError,), retry_backoff=True, max_retries=5)
def confirm_uninstall(member_id: str, ts: int) -> bool:
    access = bitrix_access()
    access.locks.delete(UNINSTALL_CHECK_FLAG.format(member_id))  # an event from now on asks again
    return confirm(access, member_id, ts)
