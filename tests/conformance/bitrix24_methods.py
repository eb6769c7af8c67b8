"""Every Bitrix24 REST method the app calls, with its parameters as the official page lists them.

Pages are paths in github.com/bitrix24/b24restdocs (read at commit 5988ed1, 2026-08-21), the source of
apidocs.bitrix24.com; the OAuth server's routes follow settings/oauth/auto-renewal.md and the two
official SDKs. A method the app starts calling needs its table here (test_app_conformance.py fails
on a call with none), taken from its page, not from what the app sends.
"""
from __future__ import annotations

from .schema import Method, Param, Route

DOCS = "b24restdocs:"
CALENDAR_TYPES = ("user", "group", "company_calendar")

# In OAuth mode the access token travels as the `auth` parameter of every call (the "cURL (OAuth)"
# examples of each method page, e.g. api-reference/calendar/calendar-event/calendar-event-add.md).
AUTH = {"auth": Param("string")}

# calendar-event-add.md, "remind Parameter" and "meeting Parameter"; calendar-event-update.md has the same.
REMIND = Param("object", fields={"type": Param("string", values=("min", "hour", "day")),
                                 "count": Param("integer")})
MEETING = Param("object", fields={name: Param("php_bool") for name in ("notify", "reinvite", "allow_invite",
                                                                        "hide_guests")})
RRULE = Param("object", fields={"FREQ": Param("string", values=("DAILY", "WEEKLY", "MONTHLY", "YEARLY")),
                                "COUNT": Param("integer"), "INTERVAL": Param("integer"),
                                "BYDAY": Param("array", items=Param("string", values=("SU", "MO", "TU", "WE", "TH",
                                                                                       "FR", "SA"))),
                                "UNTIL": Param("date")})

# The fields calendar.event.add and calendar.event.update share, as both pages list them.
EVENT_FIELDS = {
    "skip_time": Param("yn"),
    "from_ts": Param("integer"),
    "to_ts": Param("integer"),
    "timezone_from": Param("timezone"),
    "timezone_to": Param("timezone"),
    "description": Param("string"),
    "color": Param("string"),
    "text_color": Param("string"),
    "accessibility": Param("string", values=("busy", "absent", "quest", "free")),
    "importance": Param("string", values=("high", "normal", "low")),
    "private_event": Param("yn"),
    "rrule": RRULE,
    "is_meeting": Param("yn"),
    "location": Param("string"),
    "remind": Param("array", items=REMIND),
    "attendees": Param("array", items=Param("integer")),
    "meeting": MEETING,
    "crm_fields": Param("array", items=Param("string")),  # prefixed ids: CO_, C_, L_, D_ (crm/data-types.md)
}

# The fields bizproc.robot.add takes besides CODE and bizproc.robot.update in FIELDS, as both pages list them.
ROBOT_FIELDS = {
    "HANDLER": Param("string"),
    "AUTH_USER_ID": Param("integer"),
    "USE_SUBSCRIPTION": Param("yn"),
    "NAME": Param("object", open=True),
    "DESCRIPTION": Param("object", open=True),
    "PROPERTIES": Param("object", open=True),
    "RETURN_PROPERTIES": Param("object", open=True),
    "DOCUMENT_TYPE": Param("array", items=Param("string"), max_items=3),  # "three string-type elements"
    "FILTER": Param("object", fields={"INCLUDE": Param("array"), "EXCLUDE": Param("array")}),
    "USE_PLACEMENT": Param("yn"),
    "PLACEMENT_HANDLER": Param("string"),
}

# The parameters crm.activity.todo.add and crm.activity.todo.update share, as both pages list them.
TODO_FIELDS = {
    "ownerTypeId": Param("integer", required=True),
    "ownerId": Param("integer", required=True),
    "deadline": Param("datetime", required=True),
    "title": Param("string"),
    "description": Param("string"),
    "responsibleId": Param("integer"),
    "parentActivityId": Param("integer"),
    "pingOffsets": Param("array", items=Param("integer")),
    "colorId": Param("string", values=tuple(str(n) for n in range(1, 8))),
}

METHODS = {method.name: method for method in (
    Method("calendar.event.add", DOCS + "api-reference/calendar/calendar-event/calendar-event-add.md", {
        **AUTH, **EVENT_FIELDS,
        "type": Param("string", required=True, values=CALENDAR_TYPES),
        "ownerId": Param("integer", required=True),
        "from": Param("datetime", required=True),
        "to": Param("datetime", required=True),
        # "section*: required if auto_detect_section is passed and not equal to Y". The page also says the
        # method auto-detects without either, the core copy only with Y (finding B5): so one of the two.
        "section": Param("integer", required_unless=("auto_detect_section", "Y")),
        "auto_detect_section": Param("yn"),
        "name": Param("string", required=True),
    }),
    Method("calendar.event.update", DOCS + "api-reference/calendar/calendar-event/calendar-event-update.md", {
        **AUTH, **EVENT_FIELDS,
        "id": Param("integer", required=True),
        "type": Param("string", required=True, values=CALENDAR_TYPES),
        "ownerId": Param("integer", required=True),
        "from": Param("datetime"),
        "to": Param("datetime"),
        "section": Param("integer"),
        "name": Param("string"),
        "recurrence_mode": Param("string", values=("this", "next", "all")),
        "current_date_from": Param("date"),
        "host": Param("integer"),
    }),
    Method("calendar.event.delete", DOCS + "api-reference/calendar/calendar-event/calendar-event-delete.md",
           {**AUTH, "id": Param("integer", required=True)}),
    Method("calendar.event.getbyid", DOCS + "api-reference/calendar/calendar-event/calendar-event-get-by-id.md",
           {**AUTH, "id": Param("integer", required=True)}),
    Method("calendar.event.get", DOCS + "api-reference/calendar/calendar-event/calendar-event-get.md", {
        **AUTH,
        "type": Param("string", required=True, values=CALENDAR_TYPES),
        "ownerId": Param("integer", required=True),
        "from": Param("date"),
        "to": Param("date"),
        "section": Param("array", items=Param("integer")),
    }),
    # ownerId "can be omitted if the calendar type is user"; `location` and custom types exist too.
    Method("calendar.section.get", DOCS + "api-reference/calendar/calendar-section-get.md", {
        **AUTH, "type": Param("string", required=True), "ownerId": Param("integer")}),
    Method("im.notify.system.add", DOCS + "api-reference/chats/notifications/im-notify-system-add.md", {
        **AUTH,
        "USER_ID": Param("integer", required=True),
        "MESSAGE": Param("string", required=True),
        "MESSAGE_OUT": Param("string"),
        "TAG": Param("string"),
        "SUB_TAG": Param("string"),
        "ATTACH": Param("object", open=True),
        "CLIENT_ID": Param("string"),
    }, webhook_requires={"CLIENT_ID": ("TAG", "SUB_TAG")}),  # "required only when calling via a webhook: pass
    # it together with TAG and SUB_TAG"
    # im-message-add.md: MESSAGE "required if ATTACH is not provided"; ATTACH and KEYBOARD are typed object or
    # string (attachments.md, keyboards.md give the object forms the app sends).
    Method("im.message.add", DOCS + "api-reference/chats/messages/im-message-add.md", {
        **AUTH, "DIALOG_ID": Param("string", required=True), "MESSAGE": Param("string"),
        "ATTACH": Param("object", open=True), "KEYBOARD": Param("object", open=True), "MENU": Param("object", open=True),
        "SYSTEM": Param("yn"), "URL_PREVIEW": Param("yn"), "REPLY_ID": Param("integer")}),
    # im-message-update.md types ATTACH and KEYBOARD string: "To remove ..., pass N or an empty value".
    Method("im.message.update", DOCS + "api-reference/chats/messages/im-message-update.md", {
        **AUTH, "MESSAGE_ID": Param("integer", required=True), "MESSAGE": Param("string"),
        "ATTACH": Param("object", open=True), "KEYBOARD": Param("object", open=True), "MENU": Param("object", open=True),
        "URL_PREVIEW": Param("yn"), "IS_EDITED": Param("yn")}),
    Method("im.dialog.get", DOCS + "api-reference/chats/im-dialog-get.md", {
        **AUTH, "DIALOG_ID": Param("string", required=True)}),
    Method("im.dialog.users.list", DOCS + "api-reference/chats/chat-users/im-dialog-users-list.md", {
        **AUTH, "DIALOG_ID": Param("string", required=True), "SKIP_EXTERNAL": Param("yn"),
        "SKIP_EXTERNAL_EXCEPT_TYPES": Param("string"), "LIMIT": Param("integer", maximum=200),
        "LAST_ID": Param("integer"), "OFFSET": Param("integer", minimum=0)}),
    Method("im.dialog.messages.get", DOCS + "api-reference/chats/messages/im-dialog-messages-get.md", {
        **AUTH, "DIALOG_ID": Param("string", required=True), "LAST_ID": Param("integer"),
        "FIRST_ID": Param("integer"), "LIMIT": Param("integer")}),
    # crm-item-get.md; entityTypeId: the object types of crm/data-types.md (lead 1, deal 2, contact 3, company 4).
    Method("crm.item.get", DOCS + "api-reference/crm/universal/crm-item-get.md", {
        **AUTH, "entityTypeId": Param("integer", required=True), "id": Param("integer", required=True),
        "useOriginalUfNames": Param("yn")}),
    # The todo pages: deadline a datetime ("2025-02-03T15:00:00"), colorId a string "values from 1 to 7".
    Method("crm.activity.todo.add", DOCS + "api-reference/crm/timeline/activities/todo/crm-activity-todo-add.md", {
        **AUTH, **TODO_FIELDS}),
    Method("crm.activity.todo.update", DOCS + "api-reference/crm/timeline/activities/todo/crm-activity-todo-update.md", {
        **AUTH, **TODO_FIELDS, "id": Param("integer", required=True)}),
    # filter keys may carry the page's prefixes (%DESCRIPTION, @ID, !COMPLETED): open, typed where unprefixed.
    Method("crm.activity.list", DOCS + "api-reference/crm/timeline/activities/activity-base/crm-activity-list.md", {
        **AUTH, "select": Param("array", items=Param("string")),
        "filter": Param("object", open=True, fields={
            "ID": Param("integer"), "OWNER_TYPE_ID": Param("integer"), "OWNER_ID": Param("integer"),
            "TYPE_ID": Param("integer"), "PROVIDER_ID": Param("string"), "PROVIDER_TYPE_ID": Param("string"),
            "COMPLETED": Param("yn"), "RESPONSIBLE_ID": Param("integer"), "SUBJECT": Param("string"),
            "DESCRIPTION": Param("string"), "BINDINGS": Param("array", items=Param("object", fields={
                "OWNER_TYPE_ID": Param("integer"), "OWNER_ID": Param("integer")}))}),
        "order": Param("object", open=True), "start": Param("integer", minimum=0)}),
    # crm-activity-update.md, "Parameter fields": it stars OWNER_ID, OWNER_TYPE_ID, TYPE_ID, COMMUNICATIONS and
    # RESPONSIBLE_ID, but its own example sends only RESPONSIBLE_ID and DESCRIPTION: RESPONSIBLE_ID is held
    # required (starred and in the example), the others not. COMPLETED (char Y/N) is from crm-activity-fields.md.
    Method("crm.activity.update", DOCS + "api-reference/crm/timeline/activities/activity-base/crm-activity-update.md", {
        **AUTH, "id": Param("integer", required=True), "fields": Param("object", required=True, fields={
            "OWNER_ID": Param("integer"), "OWNER_TYPE_ID": Param("integer"), "TYPE_ID": Param("integer"),
            "ASSOCIATED_ENTITY_ID": Param("integer"), "COMMUNICATIONS": Param("array"),
            "DEADLINE": Param("datetime"), "DESCRIPTION": Param("string"), "DESCRIPTION_TYPE": Param("integer"),
            "DIRECTION": Param("integer"), "END_TIME": Param("datetime"), "FILES": Param("array"),
            "LOCATION": Param("string"), "NOTIFY_TYPE": Param("integer"), "ORIGINATOR_ID": Param("string"),
            "ORIGIN_ID": Param("string"), "ORIGIN_VERSION": Param("string"), "PRIORITY": Param("integer"),
            "PROVIDER_DATA": Param("string"), "PROVIDER_GROUP_ID": Param("string"), "PROVIDER_ID": Param("string"),
            "PROVIDER_TYPE_ID": Param("string"), "PROVIDER_PARAMS": Param("object", open=True),
            "RESPONSIBLE_ID": Param("integer", required=True), "SETTINGS": Param("object", open=True),
            "START_TIME": Param("datetime"), "STATUS": Param("integer"), "SUBJECT": Param("string"),
            "WEBDAV_ELEMENTS": Param("array"), "IS_INCOMING_CHANNEL": Param("yn"), "COMPLETED": Param("yn")})}),
    Method("placement.bind", DOCS + "api-reference/widgets/placement-bind.md", {
        **AUTH, "PLACEMENT": Param("string", required=True), "HANDLER": Param("string", required=True),
        "TITLE": Param("string"), "DESCRIPTION": Param("string"), "GROUP_NAME": Param("string"),
        "LANG_ALL": Param("object", open=True), "OPTIONS": Param("object", open=True), "USER_ID": Param("integer")}),
    Method("placement.get", DOCS + "api-reference/widgets/placement-get.md", AUTH),  # no parameters
    # bizproc-robot-add.md. NAME and DESCRIPTION are typed `string | object` (localized strings): the table
    # holds one kind, the object the app sends. PROPERTIES and RETURN_PROPERTIES are keyed by the app's own
    # property names ("Object PROPERTY" describes each value); USE_SUBSCRIPTION and USE_PLACEMENT are typed
    # boolean with the values Y and N.
    Method("bizproc.robot.add", DOCS + "api-reference/bizproc/bizproc-robot/bizproc-robot-add.md", {
        **AUTH, "CODE": Param("string", required=True), **ROBOT_FIELDS,
        "HANDLER": Param("string", required=True), "NAME": Param("object", required=True, open=True)}),
    # bizproc-robot-update.md: "Pass at least one field to update in FIELDS".
    Method("bizproc.robot.update", DOCS + "api-reference/bizproc/bizproc-robot/bizproc-robot-update.md", {
        **AUTH, "CODE": Param("string", required=True), "FIELDS": Param("object", required=True, fields=ROBOT_FIELDS)}),
    Method("bizproc.robot.list", DOCS + "api-reference/bizproc/bizproc-robot/bizproc-robot-list.md", AUTH),  # "No parameters."
    Method("bizproc.robot.delete", DOCS + "api-reference/bizproc/bizproc-robot/bizproc-robot-delete.md", {
        **AUTH, "CODE": Param("string", required=True)}),
    Method("bizproc.event.send", DOCS + "api-reference/bizproc/bizproc-robot/bizproc-event-send.md", {
        **AUTH, "EVENT_TOKEN": Param("string", required=True), "RETURN_VALUES": Param("object", open=True),
        "LOG_MESSAGE": Param("string")}),
    # FILTER is typed `string` on both pages but described as an array of fields ("The array can contain
    # fields in any combination"); FIND "cannot be used with any other field" (user-search.md).
    Method("user.search", DOCS + "api-reference/user/user-search.md", {
        **AUTH,
        "FILTER": Param("object", fields={
            "FIND": Param("string", alone=True), "NAME": Param("string"), "LAST_NAME": Param("string"),
            "WORK_POSITION": Param("string"), "UF_DEPARTMENT_NAME": Param("string"),
            "USER_TYPE": Param("string", values=("employee", "extranet", "email"))}),
        "sort": Param("string"),
        "order": Param("string", values=("ASC", "DESC")),
        "ADMIN_MODE": Param("php_bool"),
        "select": Param("array", items=Param("string")),
        "start": Param("integer", minimum=0),
    }),
    # FILTER takes any user.add field, with prefixes; ACTIVE "when set to true, excludes terminated users".
    Method("user.get", DOCS + "api-reference/user/user-get.md", {
        **AUTH,
        "sort": Param("string"),
        "order": Param("string", values=("ASC", "DESC")),
        "FILTER": Param("object", open=True, fields={
            "ACTIVE": Param("php_bool"), "USER_TYPE": Param("string", values=("employee", "extranet", "email")),
            "IS_ONLINE": Param("yn")}),
        "ADMIN_MODE": Param("php_bool"),
        "select": Param("array", items=Param("string")),
        "IMAGE_RESIZE": Param("string", values=("small", "medium", "large")),
        "start": Param("integer", minimum=0),
    }),
    Method("user.current", DOCS + "api-reference/user/user-current.md", AUTH),  # "The method has no parameters"
    Method("user.admin", DOCS + "api-reference/common/users/user-admin.md", AUTH),  # "No parameters."
    Method("app.info", DOCS + "api-reference/common/system/app-info.md", AUTH),  # "No parameters."
    Method("event.bind", DOCS + "api-reference/events/event-bind.md", {
        **AUTH,
        "event": Param("string", required=True),
        "handler": Param("string", required=True),
        "auth_type": Param("integer"),
        "event_type": Param("string", values=("online", "offline")),
        "auth_connector": Param("string"),
        "options": Param("object", open=True),
    }),
    Method("event.unbind", DOCS + "api-reference/events/event-unbind.md", {
        **AUTH, "event": Param("string", required=True), "handler": Param("string", required=True),
        "auth_type": Param("integer"), "event_type": Param("string", values=("online", "offline"))}),
    Method("event.get", DOCS + "api-reference/events/event-get.md", AUTH),  # "No parameters."
    Method("event.offline.get", DOCS + "api-reference/events/event-offline-get.md", {
        **AUTH, "filter": Param("object", open=True), "order": Param("object", open=True),
        "limit": Param("integer"), "clear": Param("integer", values=(0, 1)), "process_id": Param("string"),
        "auth_connector": Param("string"), "error": Param("integer", values=(0, 1))}),
    Method("event.offline.clear", DOCS + "api-reference/events/event-offline-clear.md", {
        **AUTH, "process_id": Param("string", required=True), "id": Param("array", items=Param("integer")),
        "message_id": Param("array", items=Param("string"))}),
    # cmd: "An array of subqueries ... the called method with parameters as a string method?parameter=value";
    # halt: "boolean values true and false or their numerical equivalents 1 and 0".
    Method("batch", DOCS + "settings/how-to-call-rest-api/batch.md", {
        **AUTH,
        "cmd": Param("object", required=True, open=True, max_items=50),  # "no more than 50 subqueries"
        "halt": Param("php_bool"),
    }),
)}

# The OAuth server (oauth.bitrix.info, or oauth.bitrix24.tech for Russian portals: finding B1).
OAUTH_ROUTES = (
    # "the application can make a GET request to the authorization server: .../oauth/token/?grant_type=
    # refresh_token&client_id=...&client_secret=...&refresh_token=..."
    Route("bitrix-oauth", "GET", "/oauth/token/", DOCS + "settings/oauth/auto-renewal.md", query={
        "grant_type": Param("string", required=True, values=("refresh_token",)),
        "client_id": Param("string", required=True),
        "client_secret": Param("string", required=True),
        "refresh_token": Param("string", required=True),
    }),
    # b24pysdk: GET {oauth}/rest/app.info/?auth=<token> (b24pysdk/api/requesters/bitrix_oauth_requester.py);
    # b24phpsdk: POST JSON {oauth}/rest/app.info with auth and IS_NEED_OAUTH_SECURE_CHECK (src/Core/ApiClient.php).
    # Neither adds .json (finding B11).
    Route("bitrix-oauth", "GET", "/rest/app.info/", "b24pysdk:b24pysdk/api/requesters/bitrix_oauth_requester.py",
          query={"auth": Param("string", required=True)}),
    Route("bitrix-oauth", "POST", "/rest/app.info", "b24phpsdk:src/Core/ApiClient.php",
          query={"auth": Param("string", required=True), "IS_NEED_OAUTH_SECURE_CHECK": Param("php_bool")},
          body={}, transport="json", query_or_body=True),
)
