"""Dates as calendar.event.* take and give them (reference §4 Calendar).

In: "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (local to timezone_from / timezone_to, else the calling
user's zone), ISO 8601 with an offset (the zone parameters then do not move the instant), or unix
timestamps (from_ts / to_ts). Out: the portal's site format "12/11/2024 05:59:00 pm".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_WITH_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})")
SITE_FORMAT = "%m/%d/%Y %I:%M:%S %p"
SITE_DATE_FORMAT = "%m/%d/%Y"
MIN_YEAR, MAX_YEAR = 1900, 9998


class DateValueError(ValueError):
    pass


@dataclass(frozen=True)
class Moment:
    instant: datetime  # aware
    date_only: bool


def zone(name: Any) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise DateValueError(name)
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise DateValueError(name) from None


def parse_moment(value: Any, local_zone: ZoneInfo) -> Moment:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    try:
        if _DATE.fullmatch(text):
            return _checked(datetime.combine(date.fromisoformat(text), time(), local_zone), True)
        if _WITH_OFFSET.fullmatch(text):
            return _checked(datetime.fromisoformat(text.replace("Z", "+00:00")), False)
        if _LOCAL.fullmatch(text):
            return _checked(datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=local_zone), False)
    except (ValueError, OverflowError):
        pass  # e.g. 2026-02-30: matches the shape, is no date
    raise DateValueError(value)


def parse_timestamp(value: Any) -> Moment:
    try:
        return _checked(datetime.fromtimestamp(float(value), timezone.utc), False)
    except (TypeError, ValueError, OverflowError, OSError):
        raise DateValueError(value) from None


def _checked(instant: datetime, date_only: bool) -> Moment:
    """Years the portal could store; others would overflow when converted between zones."""
    if not MIN_YEAR <= instant.year <= MAX_YEAR:
        raise DateValueError(instant)
    return Moment(instant, date_only)


def start_of_day(moment: Moment, local_zone: ZoneInfo) -> datetime:
    local = moment.instant.astimezone(local_zone)
    return datetime.combine(local.date(), time(), local_zone)


def next_day(instant: datetime) -> datetime:
    local = instant.replace(tzinfo=None) + timedelta(days=1)
    return local.replace(tzinfo=instant.tzinfo)


def site_format(instant: datetime, local_zone: ZoneInfo, date_only: bool) -> str:
    local = instant.astimezone(local_zone)
    if date_only:
        return local.strftime(SITE_DATE_FORMAT)
    return local.strftime(SITE_FORMAT).replace("AM", "am").replace("PM", "pm")


def js_format(instant: datetime, local_zone: ZoneInfo) -> str:
    return instant.astimezone(local_zone).strftime("%a %b %d %Y %H:%M:%S")


def offset_seconds(instant: datetime, local_zone: ZoneInfo) -> int:
    offset = instant.astimezone(local_zone).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def iso(instant: datetime, local_zone: ZoneInfo) -> str:
    return instant.astimezone(local_zone).isoformat(timespec="seconds")
