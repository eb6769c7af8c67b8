"""Where in the portal a conference lives besides its room (the chat, the CRM record), checked with the portal
before it is saved: each as the portal answers the caller (web/api/chats.py, web/api/crm.py)."""

from __future__ import annotations

from shared.conferences.service import Places
from shared.models import Conference
from shared.schemas import ConferenceIn
from web.api.chats import chat_of
from web.api.crm import crm_of


def places_for(data: ConferenceIn, before: Conference | None = None) -> Places:
    """On an edit each is asked again only when it changes: an organiser who has since left the chat, or
    lost sight of the record, keeps the earlier post or to-do up to date."""
    chat = before.chat if before is not None else None
    if data.chat is None:
        chat = None
    elif not chat or chat["dialog_id"] != data.chat.dialog_id:
        chat = chat_of(data.chat.dialog_id)
    crm = before.crm if before is not None else None
    if data.crm is None:
        crm = None
    elif not crm or (crm["entity_type"], crm["entity_id"]) != (data.crm.entity_type, data.crm.entity_id):
        crm = crm_of(data.crm)
    return Places(chat=chat, crm=crm)
