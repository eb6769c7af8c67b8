"""The sandbox portal page's own places beside the app (sandbox/bitrix24/portal_panels.py): the user's chats
with their messages, the CRM records they may see with their timelines, the employees, the app's
automation rule; each "Telemost" entry is a bound placement, opened by a real form POST of PLACEMENT and
PLACEMENT_OPTIONS to the handler the app bound (b24restdocs api-reference/widgets/im/textarea.md,
crm/detail-toolbar.md and user-profile/profile-toolbar.md, "What the Handler Receives")."""
from __future__ import annotations

import json
import re

from flask.testing import FlaskClient

from .test_bitrix24_emulator import call, token_for
from .test_bitrix24_portal_page import APP_ORIGIN, client, closed_port_url, make_client, page  # noqa: F401

HANDLER = f"{APP_ORIGIN}/"


def installed_with(client: FlaskClient, *placements: str) -> None:
    client.post("/_sandbox/install", json={"user_id": 1, "install_event_url": closed_port_url()})
    admin = token_for(client, 1)
    for code in placements:
        bound = call(client, "placement.bind", admin, PLACEMENT=code, HANDLER=HANDLER, TITLE="Telemost",
                     OPTIONS={"iconName": "fa-video-camera"} if code.startswith("IM_") else None)
        assert bound.status_code == 200, bound.json


def entries(client: FlaskClient, query: str) -> list[str]:
    html = client.get(f"/{query}").get_data(as_text=True)
    return re.findall(r'data-placement="([A-Z_]+)"', html)


def test_the_user_sees_their_chats_the_records_they_may_see_and_an_entry_only_where_one_is_bound(client):
    installed_with(client, "IM_TEXTAREA", "CRM_DEAL_DETAIL_TOOLBAR")
    shown = page(client, "?user_id=2")  # Anna: in chat1, not chat2; responsible for deal 1, not deal 2
    assert "Отдел продаж" in shown.all_text and "Планёрка разработки" not in shown.all_text
    assert "Поставка оборудования" in shown.all_text and "Внедрение CRM" not in shown.all_text
    found = entries(client, "?user_id=2")
    assert "IM_TEXTAREA" in found and "CRM_DEAL_DETAIL_TOOLBAR" in found
    assert "USER_PROFILE_TOOLBAR" not in found and "IM_SIDEBAR" not in found  # not bound: not offered


def test_an_entry_opens_the_app_by_a_form_post_of_the_placement_to_its_bound_handler(client):
    installed_with(client, "IM_TEXTAREA")
    shown = page(client, '?user_id=2&placement=IM_TEXTAREA&options={"dialogId":"chat1"}')
    form = shown.forms["launch-form"]
    assert form["action"].startswith(HANDLER + "?DOMAIN=")
    assert form["inputs"]["PLACEMENT"] == "IM_TEXTAREA"
    assert json.loads(form["inputs"]["PLACEMENT_OPTIONS"]) == {"dialogId": "chat1"}
    assert shown.config["placement"] == "IM_TEXTAREA"
    # A placement the app has not bound opens the app as its menu does.
    plain = page(client, '?user_id=2&placement=USER_PROFILE_TOOLBAR&options={"USER_ID":"3"}')
    assert plain.forms["launch-form"]["inputs"]["PLACEMENT"] == "DEFAULT"


def test_a_card_with_its_button_and_a_todo_show_as_the_portal_draws_them(client):
    installed_with(client)
    anna = token_for(client, 2)
    card = {"ID": 1, "COLOR_TOKEN": "primary", "BLOCKS": [{"MESSAGE": "[B]Planning[/B]"},
                                                          {"GRID": [{"NAME": "When", "VALUE": "Tomorrow"}]}]}
    keyboard = {"BUTTONS": [{"TEXT": "Join the meeting", "LINK": "https://telemost.yandex.ru/j/1"}]}
    assert call(client, "im.message.add", anna, DIALOG_ID="chat1", MESSAGE="Meeting: [B]Planning[/B]",
                ATTACH=card, KEYBOARD=keyboard).status_code == 200
    assert call(client, "crm.activity.todo.add", anna, ownerTypeId=2, ownerId=1, deadline="2031-01-01T10:00:00",
                title="Meeting in Yandex Telemost: Planning").status_code == 200
    html = client.get("/?user_id=2").get_data(as_text=True)
    assert 'href="https://telemost.yandex.ru/j/1"' in html and "Join the meeting" in html
    assert "Meeting: Planning" in html and "[B]" not in html  # BB code drawn, not shown
    assert "Meeting in Yandex Telemost: Planning" in html
