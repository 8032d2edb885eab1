"""Service calls every client makes on its own: configuration and the update state.

The world pushes the few updates it has (login tokens) directly, so differences are always
empty: there is never a gap for a client to catch up on.
"""

from __future__ import annotations

import datetime as dt
import zlib

from telethon.tl import functions as fn
from telethon.tl import types as tt

from sandbox.world.model import DC_IDS, WorldUser
from sandbox.world.rpc import Call, Routes

ROUTES = Routes()
STATE_PTS = 1
FREEZE_APPEAL_URL = "https://t.me/SpamBot"
"""The world's `freeze_appeal_url`; the form of Telegram's real link is not documented."""
NOWHERE = ("127.0.0.1", 0)
"""The address every data centre is given: Telethon needs one to switch DCs (`_switch_dc`
reads it from `dc_options`), but sandbox clients never open a socket, and anything that
tried would reach no Telegram, only a port nothing can listen on."""


@ROUTES.on(fn.help.GetConfigRequest, login=False)
def get_config(call: Call, request: fn.help.GetConfigRequest) -> tt.Config:
    return tt.Config(
        date=call.now,
        expires=call.now + dt.timedelta(hours=1),
        test_mode=False,
        this_dc=call.connection.dc,
        dc_options=[tt.DcOption(id=dc, ip_address=NOWHERE[0], port=NOWHERE[1]) for dc in DC_IDS],
        dc_txt_domain_name="",
        chat_size_max=200,
        megagroup_size_max=200_000,
        forwarded_count_max=100,
        online_update_period_ms=210_000,
        offline_blur_timeout_ms=5_000,
        offline_idle_timeout_ms=30_000,
        online_cloud_timeout_ms=300_000,
        notify_cloud_delay_ms=30_000,
        notify_default_delay_ms=1_500,
        push_chat_period_ms=60_000,
        push_chat_limit=2,
        edit_time_limit=172_800,
        revoke_time_limit=2_147_483_647,
        revoke_pm_time_limit=2_147_483_647,
        rating_e_decay=2_419_200,
        stickers_recent_limit=200,
        channels_read_media_period=604_800,
        call_receive_timeout_ms=20_000,
        call_ring_timeout_ms=90_000,
        call_connect_timeout_ms=30_000,
        call_packet_timeout_ms=10_000,
        me_url_prefix="https://t.me/",
        caption_length_max=1024,
        message_length_max=4096,
        webfile_dc_id=4,
    )


def _freeze_fields(user: WorldUser | None) -> list[tt.JsonObjectValue]:
    """core.telegram.org/api/auth, Frozen accounts: after FROZEN_METHOD_INVALID,
    help.getAppConfig has "freeze_since_date" and "freeze_until_date" (unixtime, set and
    non-zero) and "freeze_appeal_url" (string). The world sends them only while frozen."""
    if user is None or user.frozen_until is None:
        return []
    since = user.frozen_since or user.frozen_until
    return [
        tt.JsonObjectValue("freeze_since_date", tt.JsonNumber(int(since.timestamp()))),
        tt.JsonObjectValue("freeze_until_date", tt.JsonNumber(int(user.frozen_until.timestamp()))),
        tt.JsonObjectValue("freeze_appeal_url", tt.JsonString(FREEZE_APPEAL_URL)),
    ]


@ROUTES.on(fn.help.GetAppConfigRequest, login=False)
def get_app_config(call: Call, request: fn.help.GetAppConfigRequest) -> tt.help.TypeAppConfig:
    """The app configuration (usable without login); `hash` answers appConfigNotModified
    when the client already has this very configuration."""
    config = tt.JsonObject(_freeze_fields(call.account))
    digest = zlib.crc32(bytes(config)) & 0x7FFFFFFF
    if request.hash and request.hash == digest:
        return tt.help.AppConfigNotModified()
    return tt.help.AppConfig(hash=digest, config=config)


@ROUTES.on(fn.help.GetNearestDcRequest, login=False)
def get_nearest_dc(call: Call, request: fn.help.GetNearestDcRequest) -> tt.NearestDc:
    dc = call.connection.dc
    return tt.NearestDc(country="ZZ", this_dc=dc, nearest_dc=dc)


@ROUTES.on(fn.updates.GetStateRequest)
def get_state(call: Call, request: fn.updates.GetStateRequest) -> tt.updates.State:
    return tt.updates.State(pts=STATE_PTS, qts=0, date=call.now, seq=0, unread_count=0)


@ROUTES.on(fn.updates.GetDifferenceRequest)
def get_difference(
    call: Call, request: fn.updates.GetDifferenceRequest
) -> tt.updates.DifferenceEmpty:
    return tt.updates.DifferenceEmpty(date=call.now, seq=0)


@ROUTES.on(fn.updates.GetChannelDifferenceRequest)
def get_channel_difference(
    call: Call, request: fn.updates.GetChannelDifferenceRequest
) -> tt.updates.ChannelDifferenceEmpty:
    call.channel(request.channel)
    return tt.updates.ChannelDifferenceEmpty(
        pts=max(request.pts, STATE_PTS), final=True, timeout=60
    )
