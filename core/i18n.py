"""Every user-facing sentence, in Russian and English, under one key each.

The bot and the API read from the same catalog so that an error says the same thing in
the chat and in the panel. A test keeps both languages' keys and placeholders in step.
"""

from __future__ import annotations

from typing import Any

DEFAULT_LANGUAGE = "en"
# Each language named in itself: the /lang buttons read the same in every language.
LANGUAGE_NAMES: dict[str, str] = {"ru": "Русский", "en": "English"}

CATALOG: dict[str, dict[str, str]] = {
    "en": {
        # bot: basics
        "start.new": (
            "Hello, {name}! I help you grow your Telegram communities: link your accounts, "
            "collect audiences and invite them into your groups and channels, within safe limits.\n\n"
            "Your personal workspace is ready. Send /help to see what I can do."
        ),
        "start.again": "Welcome back, {name}! Send /help to see what I can do.",
        "help": (
            "Commands:\n"
            "/start — register and open your workspace\n"
            "/help — this list\n"
            "/lang — switch the language (Русский / English)\n"
            "/web_auth — a one-time code to enter the web panel\n"
            "/accounts — your linked Telegram accounts\n"
            "/link — link an account by QR code\n"
            "/link_phone — link an account by phone number (/cancel stops a login)\n"
            "/parse — collect an audience from a group or channel\n"
            "/search — find communities by keywords\n"
            "/tasks — collection tasks\n"
            "/audiences — your audiences\n"
            "/campaign_new — a new invite campaign\n"
            "/campaigns — your campaigns\n"
            "/team — your team and workspaces (/team_add @username, /team_remove)\n"
            "/erase — erase one person from the workspace (owner)\n"
            "/optouts — people your workspace never invites (/optouts_add, /optouts_remove)\n"
            "/admin — installation admin menu (admins only)\n"
            "/optout — never be invited to groups or channels by anyone using this bot\n"
            "/optin — undo /optout"
        ),
        "lang.choose": "Choose your language:",
        "lang.set": "Language: English.",
        "blocked": "Your access to this bot is blocked. Contact the administrator.",
        "not_registered": "Send /start first.",
        "unknown_command": "I don't know this command. Send /help for the list.",
        "outside_flow": (
            "I work by commands and buttons, and nothing is waiting for an answer now. "
            "Send /help for the list, or /start to begin."
        ),
        "not_available_yet": "This command is not available in this installation yet.",
        "bot.error": "Something went wrong on our side. Please try again later. Trace id: {trace_id}",
        "bot.unavailable": "The service is briefly unavailable. Please try again in a minute.",
        # bot: command menu (setMyCommands)
        "cmd.start": "Register and open your workspace",
        "cmd.help": "List of commands",
        "cmd.lang": "Switch the language",
        "cmd.web_auth": "One-time code for the web panel",
        "cmd.accounts": "Your linked Telegram accounts",
        "cmd.link": "Link an account by QR code",
        "cmd.link_phone": "Link an account by phone number",
        "cmd.parse": "Collect an audience from a group or channel",
        "cmd.search": "Find communities by keywords",
        "cmd.tasks": "Collection tasks",
        "cmd.audiences": "Your audiences",
        "cmd.campaign_new": "New invite campaign",
        "cmd.campaigns": "Your campaigns",
        "cmd.team": "Your team",
        "cmd.admin": "Installation admin menu",
        "cmd.erase": "Erase one person from the workspace (owner)",
        "cmd.optouts": "People your workspace never invites",
        "cmd.optout": "Never be invited by anyone using this bot",
        "cmd.optin": "Undo /optout",
        # installation admin (/admin, /admin_limits)
        "admin.menu": "🛠 Installation admin. Choose a section:",
        "admin.btn.stats": "📊 Stats",
        "admin.btn.users": "👥 Users",
        "admin.btn.limits": "⚖️ Limits",
        "admin.btn.health": "🩺 Accounts health",
        "admin.btn.menu": "← Menu",
        "admin.btn.block": "🚫 Block",
        "admin.btn.unblock": "✅ Unblock",
        "admin.btn.grant": "⭐ Make admin",
        "admin.btn.revoke": "Remove admin role",
        "admin.stats": (
            "📊 The installation now\n"
            "Users: {users} (admins: {admins}, blocked: {blocked})\n"
            "Workspaces: {workspaces}\n"
            "Linked accounts: {accounts}\n"
            "Invites today (UTC): {invites}\n"
            "Workers alive: {workers}\n"
            "Collection tasks: {tasks}\n"
            "Campaigns at work: {campaigns}"
        ),
        "admin.none": "none",
        "admin.users_ask": "Send a username (@name, or its beginning) or a Telegram id. /cancel stops the search.",
        "admin.users_found": "Found for «{query}» — choose a user, or send another search:",
        "admin.users_more": "Only the first {count} are shown: make the search more precise.",
        "admin.users_none": "Nobody found for «{query}». Send another username or id.",
        "admin.search_cancelled": "The user search is over. /admin opens the menu.",
        "admin.user_card": "{name}\nTelegram id: {telegram_id} · user #{id}\nRole: {role}\nAccess: {access}",
        "admin.user_configured": "Named in the settings: always an admin.",
        "admin.role.admin": "admin",
        "admin.role.user": "user",
        "admin.access.blocked": "blocked",
        "admin.access.allowed": "allowed",
        "admin.done.block": "{name} is blocked; their web panel sessions have ended.",
        "admin.done.unblock": "{name} is unblocked.",
        "admin.done.grant": "{name} is an admin now.",
        "admin.done.revoke": "{name} is no longer an admin.",
        "admin.limits": (
            "⚖️ Invite limits in use:\n{rows}\n\n{stored}\n\n"
            "Change the maximums like this:\n/admin_limits daily_per_account=20 daily_per_chat=10"
        ),
        "admin.limits_row": "• {name}: {effective} (settings {configured}, maximum {maximum})",
        "admin.limits_stored": "Caps and lifetimes never go above the maximums; pauses and rest times never below.",
        "admin.limits_not_stored": "No maximums set yet: the settings apply as they are.",
        "admin.limits_usage": (
            "Name the limits to change as name=number, for example:\n"
            "/admin_limits daily_per_account=20 daily_per_chat=10\nNames: {names}"
        ),
        "admin.limits_saved": "Saved. Workers use the new limits from their next pass.",
        "admin.limits_invalid": "Not saved: {problem}.",
        "admin.health": "🩺 Linked accounts: {counts}",
        "admin.health_item": "• #{id} {account} · workspace #{workspace} — {status}{reason}{until}",
        "admin.health_reason": " (reason: {reason})",
        "admin.health_until": ", until {until} UTC",
        "admin.health_empty": "No accounts are linked yet.",
        "admin.status.active": "active",
        "admin.status.cooldown": "resting",
        "admin.status.parked": "parked",
        "admin.status.restricted": "restricted",
        "admin.status.frozen": "frozen",
        "admin.status.unauthorized": "logged out",
        "admin.status.banned": "banned",
        "admin.status.disabled": "disabled",
        "error.admin_only": "Only installation admins may do this.",
        "error.admin_self": "You cannot do this to yourself: ask another admin.",
        "error.admin_configured": "This admin is named in the installation's settings: they stay an admin and cannot be blocked.",
        "problem.user_query": "{field}: a username like @name, or a Telegram id",
        "problem.limits_empty": "name at least one limit, like daily_per_account=20",
        "problem.limits_syntax": "«{word}» is not name=number",
        "problem.limit_unknown": "{field}: no such limit (known: {names})",
        "problem.limit_range": "{field}: must be a whole number from {low} to {high}",
        "problem.limit_pause_order": "{field}: must not be shorter than the shortest pause (pause_min_s)",
        "problem.campaign_limit_high": "{field}: at most {high} (the installation's limit; a campaign may only be stricter)",
        "problem.campaign_pause_short": "{field}: at least {low} s (the installation's pause; a campaign may only wait longer)",
        "problem.account_status": "{field}: one of {names}",
        # web login
        "web_auth.code": (
            "Your code for the web panel: {code}\n\n"
            "Open {panel_url}, enter your username @{username} and this code. "
            "It works once and expires in {minutes} minutes. Never share it with anyone."
        ),
        "web_auth.no_username": (
            "The web panel finds you by your Telegram username, and you have none. "
            "Set one in Telegram's settings, then send /web_auth again."
        ),
        "web_auth.rate_limited": "Too many codes requested. Try again in {minutes} min.",
        "web_auth.notice": (
            "New login to the web panel.\nTime: {at} UTC\nIP: {ip}\nBrowser: {user_agent}\n\n"
            "If this was not you, do not share codes and send /web_auth only when you log in yourself."
        ),
        # API errors
        "error.invalid_code": "The username or code is wrong, expired or locked. Request a new code with /web_auth.",
        "field.daily_per_account": "invites per account a day",
        "field.daily_per_chat": "invites per account into this chat a day",
        "field.daily_per_target": "invites into this chat a day",
        "field.lifetime_per_chat": "invites per account into one chat ever",
        "field.pause_min_s": "shortest pause between invites",
        "field.pause_max_s": "longest pause between invites",
        "problem.positive_integer": "{field}: must be a positive integer",
        "problem.integer_range": "{field}: must be a whole number from {low} to {high}",
        # Hostile or broken input refused at the API's edge (webui_api/http.py, core/audiences.py).
        "problem.json_syntax": "body: not valid JSON",
        "problem.json_object": "body: must be a JSON object",
        "problem.json_depth": "body: nested deeper than {max} levels",
        "problem.json_number": "{field}: must be a finite number",
        "problem.nul_character": "{field}: must not contain the NUL character",
        "problem.bad_text": "{field}: contains characters that are not valid Unicode text",
        "problem.file_size": "file: at most {max_mb} MB",
        "problem.file_encoding": "file: not UTF-8 text",
        "problem.csv_lines": "file: at most {max} lines (line {line} is past it)",
        "problem.csv_field": "file: line {line}: a field is longer than {max} characters",
        "problem.csv_syntax": "file: line {line} is not valid CSV",
        "problem.csv_nul": "file: line {line} contains the NUL character",
        "problem.multipart": "file: the form cannot be read (its boundary is missing or wrong)",
        "problem.no_file": "file: the form has no file",
        "problem.csv_empty": "file: it has nobody in it (no line after the header)",
        "problem.csv_nobody": "file: none of its {lines} lines has a Telegram id or a username, so no audience was made",
        "problem.csv_no_id_column": "file: no user_id or username column (name one in the header, or send one id or @username per line)",
        "problem.audience_exists": "name: an audience named «{name}» exists already; choose another name, or import into it from its page",
        "problem.request_head": "the request line or a header is too long or malformed",
        "problem.body_unreadable": "body: cannot be read (broken compression or transfer, or it stopped midway)",
        "error.rate_limited": "Too many attempts. Try again in {retry_after} s.",
        "error.unavailable": "The service is briefly unavailable. Try again in {retry_after} s.",
        "error.unauthorized": "Log in again: the session is missing, expired or ended.",
        "error.forbidden": "Your role in this workspace does not allow this.",
        "accounts.status_notice": "Account {account}: {status}.",
        "accounts.status.active": "active",
        "accounts.status.cooldown": "resting after a Telegram flood limit",
        "accounts.status.parked": "parked for a day after Telegram's spam limit (PEER_FLOOD)",
        "accounts.status.restricted": (
            "restricted by Telegram's anti-spam limits. It stopped inviting. Open @SpamBot in this "
            "account's Telegram app to see until when (and to appeal); it is checked again every day"
        ),
        "accounts.status.frozen": (
            "frozen by Telegram. It can no longer invite or read chats; only an appeal through "
            "Telegram's app (the link it shows) can lift it"
        ),
        "accounts.status.unauthorized": "logged out by Telegram — link it again with /link",
        "accounts.status.banned": "deactivated or banned by Telegram",
        "accounts.status.disabled": "disabled",
        "private_only": "This works only in a private chat with me.",
        # linking accounts
        "linking.qr_caption": (
            "Scan this QR code with Telegram on the phone where the account is logged in: "
            "Settings → Devices → Link Desktop Device.\n\n"
            "The code renews itself; the login stays open for {minutes} min. /cancel stops it."
        ),
        "linking.qr_refresh": "Refresh the QR code",
        "linking.qr_refreshed": "Here is a new QR code.",
        "linking.qr_stale": "This QR code is no longer in use. Send /link for a new one.",
        "linking.qr_expired": "This QR code is no longer valid.",
        "linking.qr_scanned": "The QR code was scanned.",
        "linking.password_ask": (
            "This account has two-step verification. Send its password (the cloud password "
            "from Telegram's settings). I delete your message right away. /cancel stops the login."
        ),
        "linking.password_wrong": "Wrong password. Tries left: {left}.",
        "linking.password_aborted": (
            "Wrong password {tries} times: the login is stopped. "
            "Send /link or /link_phone to start again."
        ),
        "linking.phone_ask": (
            "Send the phone number of the Telegram account to link, in international format, "
            "e.g. +44 7911 123456. /cancel stops the login."
        ),
        "linking.phone_invalid": (
            "That is not a phone number in international format: + and 7 to 15 digits, "
            "e.g. +44 7911 123456. Send it again."
        ),
        "linking.phone_rejected": "Telegram does not accept this number. Check it and send it again.",
        "linking.phone_not_registered": (
            "There is no Telegram account with this number. Check it and send /link_phone again."
        ),
        "linking.phone_banned": "Telegram has banned this number. It cannot be linked.",
        "linking.code_ask": (
            "Telegram has sent a login code to the Telegram app of {phone}, on the other phone or "
            "computer where this account is logged in: look for a message from Telegram there. "
            "Send it here with spaces between the digits, like 1 2 3 4 5: Telegram blocks the "
            "login when the code is forwarded or pasted as it came. /cancel stops the login."
        ),
        "linking.code_ask_sms": (
            "Telegram has sent a login code by SMS to {phone}. Send it here with spaces between "
            "the digits, like 1 2 3 4 5: Telegram blocks the login when the code is pasted as it "
            "came. /cancel stops the login."
        ),
        "linking.code_ask_call": (
            "Telegram is calling {phone} to give you a login code (it may also be the last digits "
            "of the number that calls). Send it here with spaces between the digits, like "
            "1 2 3 4 5. /cancel stops the login."
        ),
        "linking.code_ask_email": (
            "Telegram has sent a login code to this account's login email ({email}). Send it here "
            "with spaces between the digits, like 1 2 3 4 5. /cancel stops the login."
        ),
        "linking.code_ask_other": (
            "Telegram has sent a login code for {phone}. Send it here with spaces between the "
            "digits, like 1 2 3 4 5. If what you received is not a number, link by QR code "
            "instead: /link. /cancel stops the login."
        ),
        "linking.email_setup_required": (
            "Telegram sends no login code to this account until it has a login email. Set one up "
            "in the official Telegram app (it asks for one when you log in there), then send "
            "/link_phone again. If the account is logged in on a phone, linking by QR code "
            "(/link) needs no code at all. The login is stopped."
        ),
        "linking.phone_flood": (
            "Telegram has been asked for login codes for this number too many times and sends no "
            "more for now. Try again in a few hours, or link by QR code with /link. "
            "The login is stopped."
        ),
        "linking.password_flood": (
            "Too many login attempts for this account: Telegram refuses new logins for a while. "
            "Try again in a few hours. The login is stopped."
        ),
        "linking.flood_wait_hours": (
            "Telegram asks to wait {hours} h before the next try. The login is stopped."
        ),
        "linking.code_invalid": "Send only the digits of the code, with spaces between them, like 1 2 3 4 5.",
        "linking.code_wrong": "Wrong code. Tries left: {left}. Type it with spaces between the digits.",
        "linking.code_aborted": "Wrong code {tries} times: the login is stopped. Send /link_phone to start again.",
        "linking.code_expired": "The code has expired. Send /link_phone to get a new one.",
        "linking.flood_wait": "Telegram asks to wait {minutes} min before the next try. The login is stopped.",
        "linking.failed": "Telegram refused the login ({error}). Send /link or /link_phone to try again.",
        "linking.store_failed": (
            "The account could not be saved, so its new session was logged out. "
            "Please try again later with /link."
        ),
        "linking.linked": "Linked {account}. Your accounts: /accounts",
        "linking.updated": "{account} was already linked: its session is updated. Your accounts: /accounts",
        "linking.expired": (
            "The login was not finished within {minutes} min and is cancelled. "
            "Send /link or /link_phone to start again."
        ),
        "linking.cancelled": "The login is cancelled.",
        "linking.nothing_to_cancel": "There is nothing to cancel.",
        "linking.none": (
            "There is no login in progress (it may have expired). "
            "Send /link or /link_phone to start one."
        ),
        # linking accounts in the web panel (webui_api/linking.py): the same refusals as the
        # bot's, with the panel's next step instead of a command
        "weblink.waiting": (
            "Scan this QR code with Telegram on the phone where the account is logged in: "
            "Settings → Devices → Link Desktop Device. The code renews itself."
        ),
        "weblink.phone": (
            "Type the phone number of the Telegram account, in international format, "
            "e.g. +44 7911 123456."
        ),
        "weblink.code.app": (
            "Telegram has sent a login code to the Telegram app of {phone}, on the other phone or "
            "computer where this account is logged in: look for a message from Telegram there."
        ),
        "weblink.code.sms": "Telegram has sent a login code by SMS to {phone}.",
        "weblink.code.call": (
            "Telegram is calling {phone} to give you a login code (it may also be the last "
            "digits of the number that calls)."
        ),
        "weblink.code.email": "Telegram has sent a login code to this account's login email ({email}).",
        "weblink.code.other": (
            "Telegram has sent a login code for {phone}. If what you received is not a number, "
            "link by QR code instead."
        ),
        "weblink.password": (
            "This account has two-step verification. Type its password (the cloud password from "
            "Telegram's settings). It goes to Telegram only and is never stored."
        ),
        "weblink.linked": "Linked {account}.",
        "weblink.updated": "{account} was already linked: its session is updated.",
        "weblink.password_wrong": "Wrong password. Tries left: {left}.",
        "weblink.password_aborted": "Wrong password {tries} times: the login is stopped. Start again.",
        "weblink.code_wrong": "Wrong code. Tries left: {left}.",
        "weblink.code_aborted": "Wrong code {tries} times: the login is stopped. Start again.",
        "weblink.code_invalid": "Type only the digits of the code, like 12345.",
        "weblink.code_expired": "The code has expired. Start again to get a new one.",
        "weblink.phone_invalid": (
            "That is not a phone number in international format: + and 7 to 15 digits, "
            "e.g. +44 7911 123456."
        ),
        "weblink.phone_rejected": "Telegram does not accept this number. Check it and type it again.",
        "weblink.phone_not_registered": (
            "There is no Telegram account with this number. Check it and start again."
        ),
        "weblink.phone_banned": "Telegram has banned this number. It cannot be linked.",
        "weblink.email_setup_required": (
            "Telegram sends no login code to this account until it has a login email. Set one up "
            "in the official Telegram app, then start again; or link by QR code, which needs no "
            "code at all."
        ),
        "weblink.phone_flood": (
            "Telegram has been asked for login codes for this number too many times and sends no "
            "more for now. Try again in a few hours, or link by QR code."
        ),
        "weblink.password_flood": (
            "Too many login attempts for this account: Telegram refuses new logins for a while. "
            "Try again in a few hours."
        ),
        "weblink.flood_wait": "Telegram asks to wait {minutes} min before the next try. The login is stopped.",
        "weblink.flood_wait_hours": "Telegram asks to wait {hours} h before the next try. The login is stopped.",
        "weblink.failed": "Telegram refused the login ({error}). Start again.",
        "weblink.no_connection": "Telegram cannot be reached right now. Try again in a minute.",
        "linking.no_connection": (
            "Telegram cannot be reached right now, so the login is stopped. "
            "Try again in a minute with /link or /link_phone."
        ),
        "weblink.store_failed": (
            "The account could not be saved, so its new session was logged out. Please try again later."
        ),
        "weblink.expired": "The login was not finished within {minutes} min and has ended. Start again.",
        "error.login_stage": "This login is not waiting for that now (it has moved on or ended).",
        # the /accounts list
        "accounts.title": "Your Telegram accounts:",
        "accounts.empty": (
            "No accounts are linked yet. Link one with /link (QR code) or /link_phone (phone number)."
        ),
        "accounts.item": "• {account} — {status}\n   {phone} · today: {used} of {limit} invites",
        "accounts.no_phone": "no phone",
        "accounts.until": "until {until} UTC",
        "accounts.reason": "reason: {reason}",
        "accounts.frozen_deadline": "appeal before {until} UTC, or Telegram deletes the account",
        "accounts.footer": "Link another one: /link or /link_phone",
        "accounts.disable": "Disable {account}",
        "accounts.enable": "Enable {account}",
        "accounts.unlink": "Unlink {account}",
        "accounts.unlink_confirm": (
            "Unlink {account}? Its session is logged out of Telegram and forgotten here. "
            "You can link it again later."
        ),
        "accounts.unlink_yes": "Yes, unlink",
        "accounts.unlink_no": "No, keep it",
        "accounts.unlinked": "{account} is unlinked and logged out.",
        "accounts.unlinked_gone": "{account} is unlinked (Telegram had already ended its session).",
        "accounts.disabled_done": "{account} is disabled: it does no work until you enable it.",
        "accounts.enabled_done": "{account} is enabled.",
        "problem.bad_link": "source: send a public @username or a t.me link (t.me/name or t.me/name/123)",
        "problem.private_link": "source: private invite links cannot be collected from; use a public @username",
        "problem.invite_expired": "source: this invite link has expired or was revoked; ask the chat's admins for a new one",
        "problem.invite_invalid": "source: Telegram does not know this invite link; check it",
        "problem.channels_too_much": "source: the account is in too many channels and groups already; let it leave some, or choose another account",
        "problem.join_account": "account: choose one of this workspace's accounts that can work now",
        "problem.join_needs_link": "target: a chat named by its id can be joined only through its invite link; create the campaign with the link",
        "problem.join_too_soon": "account: it joined a chat a moment ago; to keep it safe, it joins the next one in about {minutes} min",
        "problem.join_flood_wait": "account: Telegram asked it to wait before joining; it rests until {until}",
        "problem.target_invite_expired": "target: this invite link has expired or was revoked; ask the chat's admins for a new one",
        "problem.target_invite_invalid": "target: Telegram does not know this invite link; check it",
        "problem.join_channels_too_much": "account: it is in too many channels and groups already; let it leave some, or choose another account",
        "problem.join_closed": "target: this account cannot join the chat (it is private, or the account was removed from it)",
        "problem.join_chat_full": "target: the chat is full and takes nobody more",
        "campaign.join.button": "Let {account} join",
        "campaign.join.joined": "{account} joined the chat.",
        "campaign.join.requested": "{account} asked to join: the chat's admins have to accept it. Check again once they have.",
        "campaign.join.admin_needed": "To add people it must also be an admin of the chat with the right to add members.",
        "problem.no_join_account": "source: one of your accounts has to join a private chat, and none can work now; link one with /accounts",
        "problem.source_not_found": "source: Telegram has no chat named {source}; check the spelling",
        "problem.source_is_person": "source: {source} is a person, not a group or channel",
        "reason.privacy_restricted": "their privacy settings do not allow being added to chats; send them the invite link",
        "reason.not_mutual_contact": "Telegram allows adding them only by a mutual contact",
        "reason.too_many_channels": "they are in too many channels and groups already",
        "reason.user_not_found": "no such user (or this account cannot see them)",
        "reason.deactivated": "the account is deleted or deactivated",
        "reason.banned_in_chat": "they are banned in the target chat",
        "reason.kicked": "they were removed from the target chat before",
        "reason.bot": "bots are not invited",
        "reason.chat_full": "the target chat is full",
        "reason.admin_required": "the account lacks the right to invite into this chat",
        "reason.missing_invitee": "Telegram accepted the request but did not add them (usually privacy); send them the invite link",
        "reason.flood": "Telegram asked this account to slow down; it will be tried again later",
        "reason.peer_flood": "Telegram's anti-spam limit hit this account; it rests for a day",
        "reason.network": "network error; it will be tried again",
        "reason.unknown": "unexpected error from Telegram",
        "reason.blocked": "Telegram refused: a block stands between the account and them (USER_BLOCKED); not asked again",
        "reason.not_added": "Telegram accepted the request, but they were not in the chat afterwards; send them the invite link",
        "reason.add_failed": "Telegram could not add them, even through other accounts",
        "reason.account_restricted": "the account is restricted by Telegram's anti-spam limits; another account takes over",
        "reason.account_frozen": "the account is frozen by Telegram; another account takes over",
        "reason.account_unauthorized": "the account's session ended; another account takes over",
        "reason.account_banned": "the account is banned by Telegram; another account takes over",
        # the accounts' history, a campaign's results and drafts (web panel, CSV exports)
        "outcome.invited": "added",
        "outcome.already_member": "already in the chat",
        "outcome.failed": "not added",
        "outcome.skipped": "skipped",
        "outcome.unconfirmed": "accepted, waiting for a membership check",
        "outcome.retry": "to be tried again",
        "account_reason.by_user": "disabled by a member of the workspace",
        "account_reason.re_enabled": "enabled again; waits for @SpamBot's word",
        "account_reason.session_undecryptable": "its stored session cannot be opened with the installation's keys; link it again",
        "account_reason.spambot_limited": "@SpamBot says the account is limited",
        "account_reason.frozen_until": "frozen by Telegram; appeal before the date shown, or Telegram deletes it",
        "problem.not_draft": "{field}: only a draft can be changed or deleted (this campaign is {status})",
        "campaign.paused.chat_full": (
            "the target chat cannot take more members (for a channel: admins may add at most 200). "
            "Resume it once the chat can take them, or start a campaign into another chat"
        ),
        "campaign.paused.brake_privacy": (
            "the automatic brake: most of its latest invites were refused by the people's privacy settings, "
            "so this audience does not want strangers to add them. Look at the audience before resuming"
        ),
        "campaign.paused.brake_left": (
            "the automatic brake: most people checked a day after being added had left the chat. "
            "Make sure the audience fits the community before resuming"
        ),
        "campaign.paused.brake_peer_flood": (
            "the automatic brake: Telegram limited several of its accounts for spam (PEER_FLOOD) within an hour. "
            "Let the accounts rest before resuming"
        ),
        "campaigns.paused_notice": "Campaign «{campaign}» paused itself: {reason}. The people left are kept.",
        "campaigns.paused_reason": "Paused: {reason}",
        "problem.campaign_name": "name: 1 to {max} characters",
        "problem.task_move": "a task that is {task_status} cannot become {task_wanted}",
        "problem.limit_at_least_1": "{field}: at least 1",
        "problem.pause_order": "the longest pause between invites must not be shorter than the shortest",
        "problem.keywords_length": "search words: {min} to {max} characters",
        "problem.phone_format": "phone number: + and 7 to 15 digits",
        "problem.login_code_format": "the login code is 4 to 8 digits",
        "problem.member_query": "q: at most {max} characters",
        "problem.last_seen": "{field}: one of {allowed}",
        "problem.flag": "{field}: 1 or 0 (true or false)",
        "problem.target_link": "target: send the @username, t.me link or invite link (t.me/+…) of your group or channel, or its id",
        "problem.target_no_such_chat": "target: there is no such chat; check the @username, link or id",
        "problem.target_not_member": "target: your accounts are not in this chat; an account must be its admin allowed to add members",
        "problem.target_channel_full": "target: this channel has {members} members; Telegram lets admins add people to a channel only until it has 200, so share its invite link instead",
        "problem.broadcast_full": "this channel has 200 members or more: Telegram lets admins add nobody more; share its invite link instead",
        "problem.target_private": "target: private invite links cannot be used; give the chat a public @username",
        "problem.target_is_person": "target: that is a person, not a group or channel",
        "problem.target_not_found": "target: none of your accounts can see this chat",
        "problem.audience_unknown": "audience: no such audience in this workspace",
        "problem.active_hours": "active hours: two whole hours 0–24 in UTC, like 9-21 (or «any»)",
        "problem.start_at": "start time: a date and time in UTC, like 2026-12-01 09:00 (or «now»)",
        "problem.start_at_past": "start time: must be in the future",
        "problem.start_at_far": "start time: at most {days} days from now",
        "problem.preflight_missing": "run the pre-flight check first",
        "problem.nobody_to_invite": "nobody in this audience is left to invite into this chat",
        "problem.preflight_status": "the pre-flight check runs only before a start or during a pause (the campaign is {status})",
        "problem.no_eligible_accounts": "none of your accounts may add people to this chat: make one an admin with the right to add members",
        "problem.not_paused": "only a paused campaign can be resumed (this one is {status})",
        "problem.transition": "not possible now: the campaign is {current}",
        "problem.campaign_status": "status: one or more of {allowed}, separated by commas",
        "reason.opted_out": "asked not to be invited",
        "reason.attempted_before": "already invited into this chat (or tried) before",
        "reason.unreachable": "only an account that cannot invite here saw them, and they have no username",
        "reason.in_chat_before": "already in the chat before the campaign",
        "reason.duplicate": "listed twice in the audience",
        "campaign.status.draft": "draft",
        "campaign.status.approval": "waiting for the owner's approval",
        "campaign.status.scheduled": "scheduled",
        "campaign.status.running": "running",
        "campaign.status.paused": "paused",
        "campaign.status.waiting": "waiting",
        "campaign.status.done": "done",
        "campaign.status.cancelled": "cancelled",
        "campaign.waiting.quota": "every account has used today's limits; it goes on after 00:00 UTC",
        "campaign.waiting.hours": "outside the active hours",
        "campaign.exclusion.not_a_member": "not in the chat",
        "campaign.exclusion.not_admin": "not an admin of the chat",
        "campaign.exclusion.no_invite_right": "admin without the right to add members",
        "campaign.exclusion.cannot_see_chat": "cannot see the chat",
        "campaign.exclusion.unavailable": "not usable now (logged out, banned, disabled or resting)",
        "campaign.exclusion.lost_rights": "Telegram refused it the right to add people there while the campaign ran",
        "accounts.lost_rights_notice": (
            "{account} can no longer add people to «{chat}» (Telegram: {error}): it is no longer in the "
            "chat, or no longer an admin allowed to add members. The campaign goes on with the other "
            "accounts. Make it an admin with the right to add members again, then run the campaign's "
            "check again to bring it back."
        ),
        "campaign.exclusion.lifetime_cap": "has already added its maximum into this chat",
        "campaign.warning.target_not_found": "None of your accounts can see this chat.",
        "campaign.warning.no_eligible_accounts": "None of your accounts may add people to this chat.",
        "campaign.warning.nobody_to_invite": (
            "Nobody is left to invite: everyone in the audience is in the chat already, was tried before "
            "or opted out. Collect more people, or pick another audience."
        ),
        "campaign.warning.broadcast_200_cap": "Into a broadcast channel Telegram lets admins add people only until it has 200 members; the rest need the invite link.",
        "campaign.warning.broadcast_full": "This channel has 200 members or more: Telegram lets admins add nobody more. Share its invite link instead.",
        "campaign.warning.unreachable_people": (
            "Some people have no username and were seen only by accounts that cannot invite here "
            "(or were imported as bare ids): Telegram takes a person only as the inviting account saw "
            "them. Collect their source with an eligible account (/parse), then check again."
        ),
        "campaign.warning.broadcast_cap_too_small": "More people than a channel can take by adding: the rest need the invite link.",
        "error.not_found": "Not found.",
        "error.busy": "It is in use right now. Try again in a minute.",
        "error.telegram_error": "Telegram answered with an error. Try again in a minute.",
        "error.method_not_allowed": "This method is not allowed here.",
        "error.payload_too_large": "The request body is too large.",
        "error.internal": "Something went wrong on our side. The trace id helps the administrator find it.",
        "error.not_ready": "The service is not ready: {problem}.",
        "error.error": "The request failed.",
        # collecting audiences: /parse and the task message
        "parse.usage": (
            "Collect people from a group or channel: public by @username or link, private by "
            "its invite link (t.me/+…: one of your accounts joins it first, you pick which), "
            "a basic group by its id (-4001234):\n"
            "/parse <link or @username> [members|comments|authors] [speed=safe|medium|fast] "
            "[priority=high|normal|low] [posts=N] [days=N] [audience=Name]\n\n"
            "members — members of a group (default); comments — authors of comments under the "
            "last N posts of a channel (posts=100 by default); authors — authors of messages in "
            "a group over the last N days (days=30 by default).\n"
            "Without audience=, the people go to an audience named after the source.\n\n"
            "Examples:\n/parse @some_group\n/parse t.me/some_channel comments posts=50\n"
            '/parse @some_group authors days=7 speed=safe audience="Best chat"'
        ),
        "parse.invalid": "The collection was not started: {problem}.\n\nSend /parse alone to see how to write it.",
        "problem.kind": "what to collect: members, comments or authors",
        "problem.speed": "speed: safe, medium or fast",
        "problem.priority": "priority: high, normal or low",
        "problem.posts": "posts: a whole number from 1 to {max}",
        "problem.days": "days: a whole number from 1 to {max}",
        "problem.name": "audience: a name of 1 to {max} characters",
        "problem.option": "I do not understand «{option}» (options: speed=, priority=, posts=, days=, audience=)",
        "problem.quotes": "a quote is opened and not closed",
        "problem.file": "the file must be UTF-8 CSV text, at most 5 MB and 100,000 lines",
        "task.head": "Collection #{id}: {source} · {kind}\nAudience: «{audience}»",
        "task.status": "Status: {status}",
        "task.kind.members": "group members",
        "task.kind.comments": "comment authors",
        "task.kind.authors": "message authors",
        "task.state.queued": "queued",
        "task.state.running": "running",
        "task.state.paused": "paused",
        "task.state.done": "done",
        "task.state.failed": "failed",
        "task.state.cancelled": "cancelled",
        "task.queued_hint": "It starts as soon as a worker and one of your accounts are free (priority: {priority}, speed: {speed}).",
        "task.priority.high": "high",
        "task.priority.normal": "normal",
        "task.priority.low": "low",
        "task.fetched_of": "Fetched: {done} of ~{total} ({percent}%)",
        "task.fetched": "Fetched: {done}",
        "task.collected": "Collected: {collected} (new: {new}, already known: {known})",
        "task.skipped": "Skipped by filters: {skipped}",
        "task.accounts": "Accounts used: {accounts}",
        "task.elapsed": "Elapsed: {elapsed}",
        "task.paused_hint": "Paused. Resume continues where it stopped; nothing collected is lost.",
        "task.summary_done": (
            "Done: {collected} collected — {new} new, {known} already in the audience; "
            "{skipped} skipped by filters."
        ),
        "task.summary_found": "Found by name search past Telegram's 10,000-member listing limit: {found}.",
        "task.summary_audience": "The audience «{audience}» now has {size} people: /audiences",
        "task.summary_failed": "Failed: {reason}.",
        "task.summary_partial": "Kept in the audience: {collected} collected, {new} of them new.",
        "task.summary_cancelled": "Cancelled. What was collected stays in the audience: {collected} ({new} new).",
        "task.pause": "⏸ Pause",
        "task.resume": "▶️ Resume",
        "task.cancel": "✖️ Cancel",
        "task.paused_done": "Paused.",
        "task.resumed_done": "Resumed: it is back in the queue.",
        "task.cancelled_done": "Cancelled.",
        "task.cannot": "Not possible: the task is {status}.",
        "parse.error.invite_expired": "the invite link has expired or was revoked (ask the chat's admins for a new one)",
        "parse.error.invite_invalid": "Telegram does not know this invite link",
        "parse.error.channels_too_much": "the account is in too many channels and groups already; let it leave some, or choose another account",
        "parse.error.join_account": "the account chosen to join the chat cannot work (removed, logged out or banned)",
        "task.join_requested": "Waiting for the chat's admins to accept the account's join request; the collection starts once they do.",
        "task.join_flood_wait": "Telegram asked the account to wait before joining; it joins after the wait.",
        "parse.join_pick": "This is a private chat: one of your accounts joins it by the link and then collects. Which one?",
        "parse.join_gone": "This choice is no longer open; send /parse with the link again.",
        "parse.join_chat": "«{title}»: a private chat, {members} members.",
        "parse.join_approval": "Joining needs the admins' approval: the collection waits until they accept.",
        "parse.join_by": "Joining with {account}.",
        "parse.error.source_not_found": "no chat has this username",
        "parse.error.no_access": "none of your accounts can read this chat (it is private, or they are banned there)",
        "parse.error.no_discussion": "this channel has no discussion group, so there are no comments to collect",
        "parse.error.not_a_group": (
            "this is not a group: a person, or a channel whose subscribers only its admins see "
            "(collect its comments instead)"
        ),
        "parse.error.no_accounts": "no linked account can work now; link one with /link or enable one in /accounts",
        "parse.error.private_link": "private invite links cannot be collected from; use a public @username",
        "parse.error.internal_error": "an unexpected error repeated several times; the administrator can find it in the logs",
        "parse.error.telegram_error": "Telegram kept answering with errors; try again later",
        "parse.error.unknown": "unexpected error ({code})",
        "duration.s": "{s} s",
        "duration.ms": "{m} min {s} s",
        "duration.hm": "{h} h {m} min",
        # /tasks
        "tasks.title": "Collection tasks, newest first:",
        "tasks.empty": "No collection tasks yet. Start one with /parse (send /parse alone for help).",
        "tasks.item": "• #{id} {source} · {kind} — {status}\n   {progress}",
        "tasks.progress_of": "fetched {done} of ~{total} ({percent}%), collected {collected}",
        "tasks.progress": "fetched {done}, collected {collected}",
        "tasks.pause": "⏸ Pause #{id}",
        "tasks.resume": "▶️ Resume #{id}",
        "tasks.cancel": "✖️ Cancel #{id}",
        "list.next_page": "Next ›",
        "list.first_page": "‹ Back to the start",
        # /audiences
        "audiences.title": "Your audiences:",
        "audiences.empty": "No audiences yet. Collect one with /parse, or find communities with /search.",
        "audiences.item": "• «{name}» — {size} people",
        "audiences.item_pending": "• «{name}» — {size} people, and {pending} known by username only",
        "audiences.footer": "Export is a CSV file; import takes a CSV file with user_id and/or username.",
        "audiences.export": "⬇️ Export «{name}»",
        "audiences.import": "⬆️ Import into «{name}»",
        "audiences.delete": "🗑 Delete «{name}»",
        "audiences.export_caption": "Audience «{name}»: {size} people.",
        "audiences.export_too_big": "This audience is too big to send here; export it from the web panel.",
        "audiences.exporting": "Preparing the file…",
        "audiences.import_ask": (
            "Send the CSV file for «{name}» as a document (a file, not text). A header with "
            "user_id and/or username columns, or one id or @username per line; up to 5 MB. "
            "/cancel stops the import."
        ),
        "audiences.import_not_document": "Send the CSV as a file (a document). /cancel stops the import.",
        "audiences.import_too_big": "The file is larger than {mb} MB. Split it and send the parts one by one.",
        "audiences.import_failed": "The file was not imported: {problem}. Send a corrected file or /cancel.",
        "audiences.import_report": (
            "Imported into «{name}»: {lines} lines, {accepted} accepted, "
            "{new_members} new people and {new_usernames} new usernames."
        ),
        "audiences.import_errors": "Lines with problems ({count}):",
        "audiences.import_line": "• line {line}: {problem}",
        "audiences.import_line_value": "• line {line}: {problem} — «{value}»",
        "audiences.import_more": "…and {count} more.",
        "audiences.import_cancelled": "The import is cancelled.",
        "audiences.import_unreachable": (
            "{count} of them have an id but no username. Telegram accepts a person only as an "
            "account has seen them, so an id alone cannot be invited: collect the group they came "
            "from with one of your accounts (/parse) and they become reachable."
        ),
        "import.problem.bad_username": "not a valid username",
        "import.problem.bad_user_id": "not a valid user id",
        "import.problem.no_user_id_or_username": "neither a user id nor a username",
        "audiences.delete_confirm": "Delete the audience «{name}» with its {size} people? This cannot be undone.",
        "audiences.delete_yes": "Yes, delete",
        "audiences.delete_no": "No, keep it",
        "audiences.deleted": "The audience «{name}» is deleted.",
        # /search
        "search.usage": "Send keywords after the command, e.g. /search crypto news",
        "search.bad_keywords": "Keywords: {min} to {max} characters, e.g. /search crypto news",
        "search.no_accounts": (
            "Searching needs one of your Telegram accounts, and none is linked and working. "
            "Link one with /link (or enable one in /accounts), then search again."
        ),
        "search.busy": "Your accounts are all busy or resting right now. Try again in a minute.",
        "search.nothing": "Nothing found for «{keywords}» among groups and channels with comments.",
        "search.title": "Communities for «{keywords}», best first:",
        "search.item": "{n}. {title} {username} — {kind}\n   members: {members} · active commenters: {commenters} · score: {score}",
        "search.no_username": "(no public username)",
        "search.kind.group": "group",
        "search.kind.megagroup": "supergroup",
        "search.kind.channel": "channel with comments",
        "search.parse_members": "Collect #{n}: members",
        "search.parse_comments": "Collect #{n}: commenters",
        "search.created": "Task #{id} is queued.",
        # /campaign_new
        "campaign_new.no_accounts": "Inviting needs a linked Telegram account. Link one with /link, then send /campaign_new again.",
        "campaign_new.no_audiences": "There is no audience to invite yet. Collect one with /parse (or import a CSV in /audiences), then send /campaign_new again.",
        "campaign_new.pick_audience": "New campaign, step 1 of 5: whom to invite? Pick an audience. /cancel stops.",
        "campaign_new.audience_button": "{name} · {size} people",
        "campaign_new.audience_chosen": "Audience: «{name}» ({size} people).",
        "campaign_new.ask_target": (
            "Step 2 of 5: where to? Pick a chat where your accounts may add people, or send its "
            "@username, t.me link, invite link (t.me/+…) or id (like -1001234567890)."
        ),
        "campaign_new.ask_target_typed": (
            "Step 2 of 5: where to? None of your accounts may add people to a chat yet (make one an admin "
            "allowed to add members). You can still send the chat's @username, t.me link, invite link (t.me/+…) or id."
        ),
        "campaign_new.chat_button": "{title} · {members} members",
        "campaign_new.chat_chosen": "Chat: «{title}».",
        "campaign_new.ask_start": "Step 3 of 5: when to start? Press «Now», or send a date and time in UTC like 2026-12-01 09:00.",
        "campaign_new.now": "▶️ Now",
        "campaign_new.ask_hours": "Step 4 of 5: when during the day may it invite? Press «Any time», or send hours in UTC like 9-21.",
        "campaign_new.any_time": "🕐 Any time",
        "campaign_new.ask_limits": (
            "Step 5 of 5: limits for this campaign. Press «Installation's limits», or send stricter ones "
            "as name=number, e.g. daily_per_target=40 pause_min_s=1200.\nNow: {limits}"
        ),
        "campaign_new.std_limits": "⚖️ Installation's limits",
        "campaign_new.limits_std": "Limits: the installation's.",
        "campaign_new.limits_own": "Limits: {limits}.",
        "campaign_new.bad_input": "That did not work: {problem}. Try again, or /cancel.",
        "campaign_new.failed": "The campaign was not created: {problem}. Send /campaign_new to try again.",
        "campaign_new.checking": "«{name}» is saved as a draft. Checking the chat with your accounts…",
        "campaign_new.target_again": "That chat cannot be used: {problem}. Send another one, or /cancel.",
        "campaign_new.cancelled": "The new campaign is cancelled; nothing was saved.",
        "campaign_new.expired": "This step is over. Send /campaign_new to start a new campaign.",
        # the pre-flight report
        "preflight.title": "Pre-flight check of «{name}»",
        "preflight.eligible": "Will invite ({count}): {accounts}",
        "preflight.eligible_none": "Will invite: none of your accounts",
        "preflight.unchecked": "Busy now, they check the chat themselves when they begin ({count}): {accounts}",
        "preflight.excluded": "Left out:",
        "preflight.unreachable": "Nobody can reach: {count} (see the warning below)",
        "preflight.counts": "Already in the chat: {already}\nInvited before: {before}\nOpted out: {opted}\nTo invite: {to_invite}",
        "preflight.days": "Days to finish at the daily limits: about {days}",
        "preflight.days_never": "These accounts cannot finish it: each adds at most {cap} people into one chat.",
        "preflight.ready": "All set: start it now, or keep it as a draft.",
        "preflight.not_ready": "Not ready yet: fix what is said above, then check again.",
        "preflight.start": "▶️ Start",
        "preflight.check": "🔄 Check again",
        "preflight.keep": "📝 Keep as draft",
        "preflight.cancel": "✖️ Cancel campaign",
        # /campaigns and the campaign card
        "campaigns.title": "Your campaigns, newest first:",
        "campaigns.empty": "No campaigns yet. Create one with /campaign_new.",
        "campaigns.item": "• #{id} {name} — {status}\n   {done}/{total} done · invited {invited} · failed {failed}",
        "campaigns.open": "#{id} {name}",
        "campaigns.head": "Campaign #{id}: {name}",
        "campaigns.chat": "Chat: «{title}», {kind}",
        "campaigns.chat_unknown": "Chat: {target}",
        "campaigns.kind.group": "basic group",
        "campaigns.kind.megagroup": "supergroup",
        "campaigns.kind.channel": "channel",
        "campaigns.status": "Status: {status}",
        "campaigns.waiting": "Waiting: {reason}",
        "campaigns.start_now": "Start: right away",
        "campaigns.start_at": "Start: {at} UTC",
        "campaigns.hours": "Active hours: {start}:00–{end}:00 UTC",
        "campaigns.hours_any": "Active hours: any time",
        "campaigns.progress": "Progress: {done}/{total} {bar} {percent}%",
        "campaigns.counts": "Pending {pending} · invited {invited} · already in chat {already} · failed {failed} · skipped {skipped}",
        "campaigns.counts_unconfirmed": "being confirmed {count}",
        "campaigns.not_checked": "Not checked yet: Start checks the chat with your accounts first.",
        "campaigns.reasons": "Top reasons:",
        "campaigns.follow_up_hint": "{count} people can only join by the invite link: press Report for the list.",
        "campaigns.start": "▶️ Start",
        "campaigns.pause": "⏸ Pause",
        "campaigns.resume": "▶️ Resume",
        "campaigns.cancel": "✖️ Cancel",
        "campaigns.dup": "📄 Duplicate",
        "campaigns.report": "📊 Report",
        "campaigns.card": "🔄 Refresh",
        "campaigns.checking": "Checking the chat of «{name}» with your accounts…",
        "campaigns.cannot": "Not possible: {problem}.",
        "campaigns.cannot_now": "Not possible: the campaign is {status}.",
        "campaigns.kept": "Kept as a draft: find it in /campaigns.",
        "campaigns.duplicated": "Copy #{id} is a new draft.",
        "campaigns.done.running": "Running.",
        "campaigns.done.approval": "Sent to the workspace's owner: a campaign this large starts once they approve it.",
        "campaigns.done.draft": "Sent back: a draft again.",
        "campaigns.approval_ask": (
            "{by} asks to start «{name}»: {to_invite} people to invite, more than a manager starts alone. "
            "Approve to start it, or reject to send it back as a draft."
        ),
        "campaigns.approve": "✅ Approve",
        "campaigns.reject": "↩️ Reject",
        "campaigns.approved_notice": "The owner approved campaign «{campaign}»: it starts.",
        "campaigns.rejected_notice": "The owner sent campaign «{campaign}» back: it is a draft again.",
        "problem.not_awaiting_approval": "{field}: this campaign is not waiting for approval (it is {status})",
        "campaigns.done.scheduled": "Scheduled.",
        "campaigns.done.waiting": "At work; waiting for now.",
        "campaigns.done.paused": "Paused.",
        "campaigns.done.cancelled": "Cancelled.",
        "campaigns.report_title": "Report of campaign #{id}: {name}",
        "campaigns.report_reasons": "Why people were not added:",
        "campaigns.report_no_reasons": "Nobody failed or was skipped so far.",
        "campaigns.report_accounts": "Accounts:",
        "campaigns.report_account": "• {account}: invited {invited}, failed {failed} · used today {today} of {limit}",
        "campaigns.follow_up": "Send them the invite link {link} ({count}):",
        "campaigns.follow_up_no_link": "Send them an invite link to the chat ({count}):",
        "campaigns.follow_up_more": "…and more: the full list is in the web panel.",
        "campaigns.follow_up_optout": "Add this line to your message: Don't want invitations? Open {link}",
        "campaigns.follow_up_none": "Nobody needs the invite link so far.",
        # the daily report
        "daily.title": "Daily report for {day} (UTC)",
        "daily.attempts": "Invite attempts: {total}",
        "daily.outcome.invited": "invited",
        "daily.outcome.already_member": "already in the chat",
        "daily.outcome.unconfirmed": "accepted, membership check pending",
        "daily.outcome.failed": "failed",
        "daily.outcome.skipped": "skipped",
        "daily.outcome.retry": "to be tried again",
        "daily.no_attempts": "No invite attempts that day.",
        "daily.working": "Campaigns at work:",
        "daily.campaign": "• #{id} {name} — {status}\n   {progress}",
        "daily.none_working": "No campaign is at work now.",
        "error.no_accounts": "No linked Telegram account of this workspace can do this now. Link one in the bot with /link.",
        # /team, /team_add, /team_remove
        "team.title": "Team of «{workspace}» (you are the {role}):",
        "team.role.owner": "owner",
        "team.role.manager": "manager",
        "team.owner_hint": (
            "Add a manager: /team_add @username (they must have sent /start to me first). "
            "Remove one: /team_remove."
        ),
        "team.manager_hint": "Managers run accounts, audiences and campaigns; the owner manages the team.",
        "team.workspaces": "Your workspaces (I work in the one marked ✓):",
        "team.leave": "Leave «{workspace}»",
        "team.switched": "Now working in «{workspace}».",
        "team.not_owner": "Only the owner of «{workspace}» manages its team.",
        "team.failed": "Not done: {problem}.",
        "team_add.usage": "Who should join? Send /team_add @username. They must have sent /start to me first.",
        "team.added": "{name} is now a manager of «{workspace}». I have told them.",
        "team_remove.choose": "Whom should I remove from «{workspace}»?",
        "team_remove.none": "«{workspace}» has no managers. Add one with /team_add @username.",
        "team_remove.button": "Remove {name}",
        "team.removed": "{name} is no longer in «{workspace}».",
        "team.left": "You have left «{workspace}». I work in «{current}» now.",
        "team.added_notice": "{by} added you to the team «{workspace}» as a manager. Send /team to switch to it.",
        "team.removed_notice": "{by} removed you from the team «{workspace}».",
        "team.left_notice": "{member} left your team «{workspace}».",
        "problem.team_username": "username: a Telegram username like @name",
        "problem.team_not_registered": (
            "@{username} has not started this bot yet: ask them to send /start to the bot, then add them again"
        ),
        "problem.team_already_member": "@{username} is already in this team",
        "problem.team_not_member": "@{username} is not in this team",
        "problem.team_owner": "the owner always stays in the team",
        "problem.team_full": "a team has at most {max} people",
        # /optout, /optin (anyone) and /optouts, /optouts_add, /optouts_remove (a workspace's list)
        "optout.done": (
            "Done. Nobody using this bot will invite you to groups or channels any more, in any of its "
            "workspaces. Nothing else changes: you can still join chats yourself.\n"
            "Changed your mind? Send /optin."
        ),
        "optout.already": "You have already opted out: nobody using this bot invites you. To undo it, send /optin.",
        "optout.group": "To opt out, write to me in a private chat and send /optout there.",
        "optin.done": (
            "Done: invitations through this bot are allowed again. A workspace may still keep you on its own "
            "list. To stop them again, send /optout."
        ),
        "optin.not_listed": "You have not opted out, so there is nothing to undo. To stop invitations, send /optout.",
        "optouts.title": "People «{workspace}» never invites: {count}",
        "optouts.item": "• {person}{reason}, since {date}",
        "optouts.reason.owner": " (added by the owner)",
        "optouts.reason.import": " (imported)",
        "optouts.reason.erased": " (erased)",
        # /erase (the owner) and what the retention jobs tell the owner
        "erase.usage": (
            "Whom should I erase? Send /erase <id> or /erase @username. Everything this workspace holds "
            "about the person goes; an opt-out entry stays, so they are never invited again."
        ),
        "erase.confirm": (
            "Erase {person} from «{workspace}»? Their entries in audiences, campaigns and reports go for good; "
            "only an opt-out entry stays, so they are never invited again."
        ),
        "erase.yes": "Erase",
        "erase.no": "Cancel",
        "erase.cancelled": "Nothing was erased.",
        "erase.not_owner": "Only the owner of «{workspace}» may erase people.",
        "erase.failed": "Not done: {problem}.",
        "erase.done": "{person} is erased: {total} entries removed.",
        "erase.counts": (
            "Audiences: {audiences} · campaign targets: {targets} · invite attempts made anonymous: {events} · "
            "ledger and retention checks: {ledger}"
        ),
        "erase.kept": "An opt-out entry keeps them from being invited again.",
        "erase.no_id": "This workspace knew them by username only: nothing can keep them out if they are collected again.",
        "problem.erase_person": "a Telegram id (digits) or a @username",
        "audiences.expiring_notice": (
            "Your audience «{name}» ({size} people) has not been used for a long time and will be deleted on "
            "{date} (audiences unused for {days} days are deleted). Start a campaign from it or collect into it "
            "to keep it."
        ),
        "audiences.expired_notice": "Your audience «{name}» ({size} people) was deleted: nobody used it for {days} days.",
        "retention.line": "Stayed a day: {stayed_day} of {day_checked} checked · a week: {stayed_week} of {week_checked} (of {added} added)",
        "optouts.empty": "Nobody yet.",
        "optouts.owner_hint": (
            "Add someone: /optouts_add 123456789 (a Telegram id) or /optouts_add @username (only a username one "
            "of your audiences has). Remove: /optouts_remove with the same. CSV import and export: in the web panel.\n"
            "Anyone can also opt out of every workspace of this installation by sending me /optout, or by "
            "opening {link}"
        ),
        "optouts.manager_hint": (
            "The owner adds and removes people. Anyone can opt out of every workspace of this installation "
            "by sending me /optout, or by opening {link}"
        ),
        "optouts.not_owner": "Only the owner of «{workspace}» changes its opt-out list.",
        "optouts.add_usage": (
            "Whom should your workspace never invite? Send /optouts_add 123456789 (a Telegram id) or "
            "/optouts_add @username (only a username one of your audiences has)."
        ),
        "optouts.remove_usage": "Whom should I take off the list? Send /optouts_remove 123456789 or /optouts_remove @username.",
        "optouts.added": "{person} is on the list: «{workspace}» will never invite them.",
        "optouts.already": "{person} is already on the list of «{workspace}».",
        "optouts.removed": "{person} is off the list of «{workspace}». People who opted out themselves with /optout stay out.",
        "optouts.not_listed": "{person} is not on the list of «{workspace}».",
        "optouts.failed": "Not done: {problem}.",
        "problem.optout_bad_person": "a Telegram id (digits) or a @username",
        "problem.optout_unknown_username": (
            "@{username} is in none of your audiences, so I do not know their id: send the Telegram id instead"
        ),
    },
    "ru": {
        "start.new": (
            "Здравствуйте, {name}! Я помогаю развивать сообщества в Telegram: подключите свои "
            "аккаунты, соберите аудитории и пригласите их в свои группы и каналы — в безопасных лимитах.\n\n"
            "Ваше личное рабочее пространство готово. Отправьте /help, чтобы увидеть команды."
        ),
        "start.again": "С возвращением, {name}! Отправьте /help, чтобы увидеть команды.",
        "help": (
            "Команды:\n"
            "/start — регистрация и ваше рабочее пространство\n"
            "/help — этот список\n"
            "/lang — сменить язык (Русский / English)\n"
            "/web_auth — одноразовый код для входа в веб-панель\n"
            "/accounts — подключённые аккаунты Telegram\n"
            "/link — подключить аккаунт по QR-коду\n"
            "/link_phone — подключить аккаунт по номеру телефона (/cancel — отменить вход)\n"
            "/parse — собрать аудиторию из группы или канала\n"
            "/search — найти сообщества по ключевым словам\n"
            "/tasks — задачи сбора\n"
            "/audiences — ваши аудитории\n"
            "/campaign_new — новая кампания приглашений\n"
            "/campaigns — ваши кампании\n"
            "/team — ваша команда и пространства (/team_add @username, /team_remove)\n"
            "/erase — стереть человека из пространства (владелец)\n"
            "/optouts — кого ваше пространство никогда не приглашает (/optouts_add, /optouts_remove)\n"
            "/admin — меню администратора (только для администраторов)\n"
            "/optout — чтобы никто из пользователей этого бота не приглашал вас в группы и каналы\n"
            "/optin — отменить /optout"
        ),
        "lang.choose": "Выберите язык:",
        "lang.set": "Язык: русский.",
        "blocked": "Ваш доступ к боту заблокирован. Обратитесь к администратору.",
        "not_registered": "Сначала отправьте /start.",
        "unknown_command": "Такой команды нет. Список команд — /help.",
        "outside_flow": (
            "Я работаю по командам и кнопкам, и сейчас никакого ответа не жду. "
            "Список команд — /help, начать — /start."
        ),
        "not_available_yet": "Эта команда пока недоступна в этой установке.",
        "bot.error": "Что-то пошло не так на нашей стороне. Попробуйте позже. Идентификатор трассировки: {trace_id}",
        "bot.unavailable": "Сервис ненадолго недоступен. Попробуйте ещё раз через минуту.",
        "cmd.start": "Регистрация и ваше рабочее пространство",
        "cmd.help": "Список команд",
        "cmd.lang": "Сменить язык",
        "cmd.web_auth": "Одноразовый код для веб-панели",
        "cmd.accounts": "Подключённые аккаунты Telegram",
        "cmd.link": "Подключить аккаунт по QR-коду",
        "cmd.link_phone": "Подключить аккаунт по номеру телефона",
        "cmd.parse": "Собрать аудиторию из группы или канала",
        "cmd.search": "Найти сообщества по ключевым словам",
        "cmd.tasks": "Задачи сбора",
        "cmd.audiences": "Ваши аудитории",
        "cmd.campaign_new": "Новая кампания приглашений",
        "cmd.campaigns": "Ваши кампании",
        "cmd.team": "Ваша команда",
        "cmd.admin": "Меню администратора установки",
        "cmd.erase": "Стереть человека из пространства (владелец)",
        "cmd.optouts": "Кого ваше пространство не приглашает",
        "cmd.optout": "Запретить приглашать меня через этого бота",
        "cmd.optin": "Отменить /optout",
        # installation admin (/admin, /admin_limits)
        "admin.menu": "🛠 Администрирование установки. Выберите раздел:",
        "admin.btn.stats": "📊 Статистика",
        "admin.btn.users": "👥 Пользователи",
        "admin.btn.limits": "⚖️ Лимиты",
        "admin.btn.health": "🩺 Состояние аккаунтов",
        "admin.btn.menu": "← Меню",
        "admin.btn.block": "🚫 Заблокировать",
        "admin.btn.unblock": "✅ Разблокировать",
        "admin.btn.grant": "⭐ Сделать админом",
        "admin.btn.revoke": "Снять роль админа",
        "admin.stats": (
            "📊 Установка сейчас\n"
            "Пользователи: {users} (админов: {admins}, заблокировано: {blocked})\n"
            "Пространства: {workspaces}\n"
            "Подключённые аккаунты: {accounts}\n"
            "Приглашения сегодня (UTC): {invites}\n"
            "Обработчиков в работе: {workers}\n"
            "Задачи сбора: {tasks}\n"
            "Кампании в работе: {campaigns}"
        ),
        "admin.none": "нет",
        "admin.users_ask": "Отправьте имя пользователя (@name или его начало) или Telegram id. /cancel завершает поиск.",
        "admin.users_found": "Найдено по «{query}» — выберите пользователя или отправьте новый запрос:",
        "admin.users_more": "Показаны только первые {count}: уточните запрос.",
        "admin.users_none": "По «{query}» никого нет. Отправьте другое имя или id.",
        "admin.search_cancelled": "Поиск пользователей завершён. /admin открывает меню.",
        "admin.user_card": "{name}\nTelegram id: {telegram_id} · пользователь №{id}\nРоль: {role}\nДоступ: {access}",
        "admin.user_configured": "Указан в настройках: всегда администратор.",
        "admin.role.admin": "администратор",
        "admin.role.user": "пользователь",
        "admin.access.blocked": "заблокирован",
        "admin.access.allowed": "открыт",
        "admin.done.block": "{name} заблокирован; его сессии веб-панели завершены.",
        "admin.done.unblock": "{name} разблокирован.",
        "admin.done.grant": "{name} теперь администратор.",
        "admin.done.revoke": "{name} больше не администратор.",
        "admin.limits": (
            "⚖️ Действующие лимиты приглашений:\n{rows}\n\n{stored}\n\n"
            "Изменить максимумы можно так:\n/admin_limits daily_per_account=20 daily_per_chat=10"
        ),
        "admin.limits_row": "• {name}: {effective} (настройки {configured}, максимум {maximum})",
        "admin.limits_stored": "Лимиты не поднимаются выше максимумов, а паузы и отдых не становятся короче.",
        "admin.limits_not_stored": "Максимумы ещё не заданы: действуют настройки как есть.",
        "admin.limits_usage": (
            "Укажите лимиты в виде имя=число, например:\n"
            "/admin_limits daily_per_account=20 daily_per_chat=10\nИмена: {names}"
        ),
        "admin.limits_saved": "Сохранено. Обработчики применят новые лимиты со следующего прохода.",
        "admin.limits_invalid": "Не сохранено: {problem}.",
        "admin.health": "🩺 Подключённые аккаунты: {counts}",
        "admin.health_item": "• №{id} {account} · пространство №{workspace} — {status}{reason}{until}",
        "admin.health_reason": " (причина: {reason})",
        "admin.health_until": ", до {until} UTC",
        "admin.health_empty": "Подключённых аккаунтов пока нет.",
        "admin.status.active": "активен",
        "admin.status.cooldown": "отдыхает",
        "admin.status.parked": "на стоянке",
        "admin.status.restricted": "ограничен",
        "admin.status.frozen": "заморожен",
        "admin.status.unauthorized": "вышел из сессии",
        "admin.status.banned": "забанен",
        "admin.status.disabled": "отключён",
        "error.admin_only": "Это могут только администраторы установки.",
        "error.admin_self": "С собой так нельзя: попросите другого администратора.",
        "error.admin_configured": "Этот администратор указан в настройках установки: он остаётся администратором, заблокировать его нельзя.",
        "problem.user_query": "{field}: имя пользователя вида @name или Telegram id",
        "problem.limits_empty": "укажите хотя бы один лимит, например daily_per_account=20",
        "problem.limits_syntax": "«{word}» — не в виде имя=число",
        "problem.limit_unknown": "{field}: такого лимита нет (есть: {names})",
        "problem.limit_range": "{field}: нужно целое число от {low} до {high}",
        "problem.limit_pause_order": "{field}: не может быть короче самой короткой паузы (pause_min_s)",
        "problem.campaign_limit_high": "{field}: не больше {high} (лимит установки; кампания может быть только строже)",
        "problem.campaign_pause_short": "{field}: не меньше {low} с (пауза установки; кампания может ждать только дольше)",
        "problem.account_status": "{field}: одно из {names}",
        "web_auth.code": (
            "Ваш код для веб-панели: {code}\n\n"
            "Откройте {panel_url}, введите имя пользователя @{username} и этот код. "
            "Код одноразовый и действует {minutes} мин. Никому его не сообщайте."
        ),
        "web_auth.no_username": (
            "Веб-панель находит вас по имени пользователя Telegram, а у вас его нет. "
            "Задайте его в настройках Telegram и снова отправьте /web_auth."
        ),
        "web_auth.rate_limited": "Слишком много кодов. Попробуйте через {minutes} мин.",
        "web_auth.notice": (
            "Новый вход в веб-панель.\nВремя: {at} UTC\nIP: {ip}\nБраузер: {user_agent}\n\n"
            "Если это были не вы — никому не сообщайте коды и запрашивайте /web_auth только для своего входа."
        ),
        "error.invalid_code": "Имя пользователя или код неверны, код истёк или вход заблокирован. Запросите новый код: /web_auth.",
        "field.daily_per_account": "приглашений с аккаунта в день",
        "field.daily_per_chat": "приглашений с аккаунта в этот чат в день",
        "field.daily_per_target": "приглашений в этот чат в день",
        "field.lifetime_per_chat": "приглашений с аккаунта в один чат за всё время",
        "field.pause_min_s": "самая короткая пауза между приглашениями",
        "field.pause_max_s": "самая длинная пауза между приглашениями",
        "problem.positive_integer": "{field}: нужно целое положительное число",
        "problem.integer_range": "{field}: нужно целое число от {low} до {high}",
        "problem.json_syntax": "тело запроса: это не JSON",
        "problem.json_object": "тело запроса: нужен JSON-объект",
        "problem.json_depth": "тело запроса: вложенность глубже {max} уровней",
        "problem.json_number": "{field}: нужно конечное число",
        "problem.nul_character": "{field}: не должно содержать символ NUL",
        "problem.bad_text": "{field}: содержит символы, которые не являются текстом Unicode",
        "problem.file_size": "файл: не больше {max_mb} МБ",
        "problem.file_encoding": "файл: это не текст в UTF-8",
        "problem.csv_lines": "файл: не больше {max} строк (строка {line} уже лишняя)",
        "problem.csv_field": "файл: строка {line}: поле длиннее {max} символов",
        "problem.csv_syntax": "файл: строка {line} — это не CSV",
        "problem.csv_nul": "файл: строка {line} содержит символ NUL",
        "problem.multipart": "файл: форму не прочитать (граница частей не указана или неверна)",
        "problem.no_file": "файл: в форме нет файла",
        "problem.csv_empty": "файл: в нём никого нет (ни одной строки после заголовка)",
        "problem.csv_nobody": "файл: ни в одной из {lines} строк нет ни id в Telegram, ни имени пользователя, поэтому аудитория не создана",
        "problem.csv_no_id_column": "файл: нет столбца user_id или username (назовите его в заголовке или пришлите по одному id или @имени в строке)",
        "problem.audience_exists": "название: аудитория «{name}» уже есть; выберите другое название или загрузите файл в неё на её странице",
        "problem.request_head": "строка запроса или заголовок слишком длинные или испорчены",
        "problem.body_unreadable": "тело запроса: не прочитать (испорчено сжатие или передача, или оно оборвалось)",
        "error.rate_limited": "Слишком много попыток. Повторите через {retry_after} с.",
        "error.unavailable": "Сервис ненадолго недоступен. Повторите через {retry_after} с.",
        "error.unauthorized": "Войдите снова: сессии нет, она истекла или завершена.",
        "error.forbidden": "Ваша роль в этом пространстве не позволяет это сделать.",
        "accounts.status_notice": "Аккаунт {account}: {status}.",
        "accounts.status.active": "активен",
        "accounts.status.cooldown": "отдыхает после ограничения Telegram (flood wait)",
        "accounts.status.parked": "отложен на сутки после антиспам-ограничения Telegram (PEER_FLOOD)",
        "accounts.status.restricted": (
            "ограничен антиспам-системой Telegram и перестал приглашать. Откройте @SpamBot в "
            "приложении Telegram этого аккаунта, чтобы узнать срок (и подать апелляцию); проверка — раз в сутки"
        ),
        "accounts.status.frozen": (
            "заморожен Telegram: он больше не может приглашать и читать чаты; снять заморозку "
            "можно только апелляцией через приложение Telegram (ссылку покажет оно)"
        ),
        "accounts.status.unauthorized": "сессия завершена Telegram — подключите его снова через /link",
        "accounts.status.banned": "деактивирован или заблокирован Telegram",
        "accounts.status.disabled": "отключён",
        "private_only": "Это работает только в личном чате со мной.",
        "linking.qr_caption": (
            "Отсканируйте этот QR-код в Telegram на телефоне, где открыт аккаунт: "
            "Настройки → Устройства → Подключить устройство.\n\n"
            "Код обновляется сам; вход открыт {minutes} мин. /cancel — отменить."
        ),
        "linking.qr_refresh": "Обновить QR-код",
        "linking.qr_refreshed": "Вот новый QR-код.",
        "linking.qr_stale": "Этот QR-код больше не действует. Отправьте /link, чтобы получить новый.",
        "linking.qr_expired": "Этот QR-код больше не действует.",
        "linking.qr_scanned": "QR-код отсканирован.",
        "linking.password_ask": (
            "У аккаунта включена двухэтапная аутентификация. Отправьте его облачный пароль "
            "(из настроек Telegram). Я сразу удалю ваше сообщение. /cancel — отменить вход."
        ),
        "linking.password_wrong": "Неверный пароль. Осталось попыток: {left}.",
        "linking.password_aborted": (
            "Пароль неверен {tries} раза: вход остановлен. "
            "Отправьте /link или /link_phone, чтобы начать заново."
        ),
        "linking.phone_ask": (
            "Отправьте номер телефона аккаунта Telegram в международном формате, "
            "например +7 999 123-45-67. /cancel — отменить вход."
        ),
        "linking.phone_invalid": (
            "Это не номер в международном формате: + и от 7 до 15 цифр, "
            "например +7 999 123-45-67. Отправьте его ещё раз."
        ),
        "linking.phone_rejected": "Telegram не принимает этот номер. Проверьте его и отправьте ещё раз.",
        "linking.phone_not_registered": (
            "С этим номером нет аккаунта Telegram. Проверьте номер и снова отправьте /link_phone."
        ),
        "linking.phone_banned": "Telegram заблокировал этот номер. Подключить его нельзя.",
        "linking.code_ask": (
            "Telegram отправил код входа в приложение Telegram для номера {phone} — на другой "
            "телефон или компьютер, где открыт этот аккаунт: ищите там сообщение от Telegram. "
            "Отправьте код сюда с пробелами между цифрами, например 1 2 3 4 5: Telegram блокирует "
            "вход, если код переслать или вставить в том виде, в каком он пришёл. "
            "/cancel — отменить вход."
        ),
        "linking.code_ask_sms": (
            "Telegram отправил код входа в SMS на номер {phone}. Отправьте его сюда с пробелами "
            "между цифрами, например 1 2 3 4 5: Telegram блокирует вход, если код вставить в том "
            "виде, в каком он пришёл. /cancel — отменить вход."
        ),
        "linking.code_ask_call": (
            "Telegram звонит на номер {phone}, чтобы продиктовать код входа (кодом могут быть и "
            "последние цифры номера, с которого звонят). Отправьте его сюда с пробелами между "
            "цифрами, например 1 2 3 4 5. /cancel — отменить вход."
        ),
        "linking.code_ask_email": (
            "Telegram отправил код входа на почту для входа этого аккаунта ({email}). Отправьте его "
            "сюда с пробелами между цифрами, например 1 2 3 4 5. /cancel — отменить вход."
        ),
        "linking.code_ask_other": (
            "Telegram отправил код входа для номера {phone}. Отправьте его сюда с пробелами между "
            "цифрами, например 1 2 3 4 5. Если пришли не цифры, подключите аккаунт по QR-коду: "
            "/link. /cancel — отменить вход."
        ),
        "linking.email_setup_required": (
            "Telegram не присылает этому аккаунту код входа, пока у него нет почты для входа. "
            "Укажите её в официальном приложении Telegram (оно попросит об этом при входе), затем "
            "снова отправьте /link_phone. Если аккаунт открыт на телефоне, вход по QR-коду "
            "(/link) обходится без кода. Вход остановлен."
        ),
        "linking.phone_flood": (
            "Telegram слишком часто присылал коды входа на этот номер и пока больше не присылает. "
            "Попробуйте через несколько часов или подключите аккаунт по QR-коду: /link. "
            "Вход остановлен."
        ),
        "linking.password_flood": (
            "Слишком много попыток входа в этот аккаунт: Telegram на время запрещает новые входы. "
            "Попробуйте через несколько часов. Вход остановлен."
        ),
        "linking.flood_wait_hours": (
            "Telegram просит подождать {hours} ч перед следующей попыткой. Вход остановлен."
        ),
        "linking.code_invalid": "Отправьте только цифры кода, через пробел, например 1 2 3 4 5.",
        "linking.code_wrong": "Неверный код. Осталось попыток: {left}. Вводите его с пробелами между цифрами.",
        "linking.code_aborted": "Код неверен {tries} раза: вход остановлен. Отправьте /link_phone, чтобы начать заново.",
        "linking.code_expired": "Срок действия кода истёк. Отправьте /link_phone, чтобы получить новый.",
        "linking.flood_wait": "Telegram просит подождать {minutes} мин перед следующей попыткой. Вход остановлен.",
        "linking.failed": "Telegram отклонил вход ({error}). Отправьте /link или /link_phone, чтобы попробовать снова.",
        "linking.store_failed": (
            "Не удалось сохранить аккаунт, поэтому его новая сессия завершена. "
            "Попробуйте позже ещё раз: /link."
        ),
        "linking.linked": "Аккаунт {account} подключён. Ваши аккаунты: /accounts",
        "linking.updated": "Аккаунт {account} уже был подключён: его сессия обновлена. Ваши аккаунты: /accounts",
        "linking.expired": (
            "Вход не был завершён за {minutes} мин и отменён. "
            "Отправьте /link или /link_phone, чтобы начать заново."
        ),
        "linking.cancelled": "Вход отменён.",
        "linking.nothing_to_cancel": "Отменять нечего.",
        "linking.none": (
            "Сейчас нет начатого входа (возможно, он истёк). "
            "Отправьте /link или /link_phone, чтобы начать."
        ),
        "weblink.waiting": (
            "Отсканируйте этот QR-код в Telegram на телефоне, где открыт аккаунт: "
            "Настройки → Устройства → Подключить устройство. Код обновляется сам."
        ),
        "weblink.phone": (
            "Введите номер телефона аккаунта Telegram в международном формате, например +7 999 123-45-67."
        ),
        "weblink.code.app": (
            "Telegram отправил код входа в приложение Telegram номера {phone}, на другом телефоне или "
            "компьютере, где открыт этот аккаунт: там будет сообщение от Telegram."
        ),
        "weblink.code.sms": "Telegram отправил код входа по SMS на {phone}.",
        "weblink.code.call": (
            "Telegram звонит на {phone}, чтобы продиктовать код входа (кодом могут быть и последние "
            "цифры звонящего номера)."
        ),
        "weblink.code.email": "Telegram отправил код входа на почту этого аккаунта ({email}).",
        "weblink.code.other": (
            "Telegram отправил код входа для {phone}. Если пришло не число, подключите аккаунт по QR-коду."
        ),
        "weblink.password": (
            "У этого аккаунта включена двухэтапная проверка. Введите его пароль (облачный пароль из "
            "настроек Telegram). Он уходит только в Telegram и нигде не хранится."
        ),
        "weblink.linked": "Аккаунт {account} подключён.",
        "weblink.updated": "Аккаунт {account} уже был подключён: его сессия обновлена.",
        "weblink.password_wrong": "Неверный пароль. Осталось попыток: {left}.",
        "weblink.password_aborted": "Пароль неверен {tries} раза: вход остановлен. Начните заново.",
        "weblink.code_wrong": "Неверный код. Осталось попыток: {left}.",
        "weblink.code_aborted": "Код неверен {tries} раза: вход остановлен. Начните заново.",
        "weblink.code_invalid": "Введите только цифры кода, например 12345.",
        "weblink.code_expired": "Срок действия кода истёк. Начните заново, чтобы получить новый.",
        "weblink.phone_invalid": (
            "Это не номер в международном формате: + и от 7 до 15 цифр, например +7 999 123-45-67."
        ),
        "weblink.phone_rejected": "Telegram не принимает этот номер. Проверьте его и введите ещё раз.",
        "weblink.phone_not_registered": "Аккаунта Telegram с этим номером нет. Проверьте номер и начните заново.",
        "weblink.phone_banned": "Telegram заблокировал этот номер. Подключить его нельзя.",
        "weblink.email_setup_required": (
            "Telegram не присылает этому аккаунту код входа, пока у него нет почты для входа. Укажите её "
            "в официальном приложении Telegram и начните заново — или подключите аккаунт по QR-коду, "
            "кода для этого не нужно."
        ),
        "weblink.phone_flood": (
            "Коды входа для этого номера запрашивали слишком часто, и Telegram пока их не присылает. "
            "Попробуйте через несколько часов или подключите аккаунт по QR-коду."
        ),
        "weblink.password_flood": (
            "Слишком много попыток входа в этот аккаунт: Telegram на время отказывает в новых входах. "
            "Попробуйте через несколько часов."
        ),
        "weblink.flood_wait": "Telegram просит подождать {minutes} мин перед следующей попыткой. Вход остановлен.",
        "weblink.flood_wait_hours": "Telegram просит подождать {hours} ч перед следующей попыткой. Вход остановлен.",
        "weblink.failed": "Telegram отклонил вход ({error}). Начните заново.",
        "weblink.no_connection": "Сейчас не удаётся связаться с Telegram. Попробуйте через минуту.",
        "linking.no_connection": (
            "Сейчас не удаётся связаться с Telegram, поэтому вход остановлен. "
            "Попробуйте через минуту: /link или /link_phone."
        ),
        "weblink.store_failed": (
            "Аккаунт не удалось сохранить, поэтому его новая сессия завершена. Попробуйте позже."
        ),
        "weblink.expired": "Вход не был завершён за {minutes} мин и остановлен. Начните заново.",
        "error.login_stage": "Этот вход сейчас ждёт не этого (он продвинулся дальше или завершён).",
        "accounts.title": "Ваши аккаунты Telegram:",
        "accounts.empty": (
            "Пока нет подключённых аккаунтов. Подключите аккаунт: /link (QR-код) или /link_phone (номер телефона)."
        ),
        "accounts.item": "• {account} — {status}\n   {phone} · сегодня: {used} из {limit} приглашений",
        "accounts.no_phone": "без номера",
        "accounts.until": "до {until} UTC",
        "accounts.reason": "причина: {reason}",
        "accounts.frozen_deadline": "подайте апелляцию до {until} UTC, иначе Telegram удалит аккаунт",
        "accounts.footer": "Подключить ещё один: /link или /link_phone",
        "accounts.disable": "Отключить {account}",
        "accounts.enable": "Включить {account}",
        "accounts.unlink": "Удалить {account}",
        "accounts.unlink_confirm": (
            "Удалить {account}? Его сессия будет завершена в Telegram и забыта здесь. "
            "Позже аккаунт можно подключить снова."
        ),
        "accounts.unlink_yes": "Да, удалить",
        "accounts.unlink_no": "Нет, оставить",
        "accounts.unlinked": "Аккаунт {account} удалён, его сессия завершена.",
        "accounts.unlinked_gone": "Аккаунт {account} удалён (Telegram уже завершил его сессию).",
        "accounts.disabled_done": "Аккаунт {account} отключён: он не работает, пока вы его не включите.",
        "accounts.enabled_done": "Аккаунт {account} включён.",
        "problem.bad_link": "источник: отправьте публичный @username или ссылку t.me (t.me/name или t.me/name/123)",
        "problem.private_link": "источник: из приватных ссылок-приглашений собирать нельзя; укажите публичный @username",
        "problem.invite_expired": "источник: срок действия ссылки-приглашения истёк, или её отозвали; попросите у админов чата новую",
        "problem.invite_invalid": "источник: Telegram не знает такой ссылки-приглашения; проверьте её",
        "problem.channels_too_much": "источник: аккаунт уже состоит в слишком многих каналах и группах; пусть выйдет из части, или выберите другой аккаунт",
        "problem.join_account": "аккаунт: выберите аккаунт этого пространства, который может работать сейчас",
        "problem.join_needs_link": "цель: в чат, указанный по id, можно вступить только по ссылке-приглашению; создайте кампанию со ссылкой",
        "problem.join_too_soon": "аккаунт: он только что вступил в чат; ради его безопасности следующий — примерно через {minutes} мин",
        "problem.join_flood_wait": "аккаунт: Telegram попросил подождать перед вступлением; он отдыхает до {until}",
        "problem.target_invite_expired": "цель: срок действия ссылки-приглашения истёк, или её отозвали; попросите у админов чата новую",
        "problem.target_invite_invalid": "цель: Telegram не знает такой ссылки-приглашения; проверьте её",
        "problem.join_channels_too_much": "аккаунт: он уже состоит в слишком многих каналах и группах; пусть выйдет из части, или выберите другой аккаунт",
        "problem.join_closed": "цель: этот аккаунт не может вступить в чат (чат закрыт, или аккаунт из него удалили)",
        "problem.join_chat_full": "цель: чат заполнен и больше никого не принимает",
        "campaign.join.button": "Вступить: {account}",
        "campaign.join.joined": "{account} вступил в чат.",
        "campaign.join.requested": "{account} подал заявку на вступление: её должны одобрить админы чата. Проверьте снова, когда одобрят.",
        "campaign.join.admin_needed": "Чтобы добавлять людей, он должен быть ещё и админом чата с правом добавлять участников.",
        "problem.no_join_account": "источник: в закрытый чат должен вступить один из ваших аккаунтов, а работать сейчас не может ни один; подключите аккаунт через /accounts",
        "problem.source_not_found": "источник: в Telegram нет чата {source}; проверьте написание",
        "problem.source_is_person": "источник: {source} — это человек, а не группа или канал",
        "reason.privacy_restricted": "настройки приватности не разрешают добавлять в чаты; отправьте ссылку-приглашение",
        "reason.not_mutual_contact": "Telegram разрешает добавить только взаимному контакту",
        "reason.too_many_channels": "пользователь уже состоит в слишком многих каналах и группах",
        "reason.user_not_found": "такого пользователя нет (или этот аккаунт его не видит)",
        "reason.deactivated": "аккаунт удалён или деактивирован",
        "reason.banned_in_chat": "пользователь заблокирован в целевом чате",
        "reason.kicked": "пользователя ранее удалили из целевого чата",
        "reason.bot": "ботов не приглашаем",
        "reason.chat_full": "целевой чат заполнен",
        "reason.admin_required": "у аккаунта нет права приглашать в этот чат",
        "reason.missing_invitee": "Telegram принял запрос, но не добавил пользователя (обычно приватность); отправьте ссылку-приглашение",
        "reason.flood": "Telegram попросил аккаунт притормозить; попробуем позже",
        "reason.peer_flood": "антиспам-ограничение Telegram; аккаунт отдыхает сутки",
        "reason.network": "ошибка сети; попробуем ещё раз",
        "reason.unknown": "неожиданная ошибка Telegram",
        "reason.blocked": "Telegram отказал: между аккаунтом и человеком блокировка (USER_BLOCKED); больше не приглашаем",
        "reason.not_added": "Telegram принял запрос, но человека в чате так и не оказалось; отправьте ему ссылку-приглашение",
        "reason.add_failed": "Telegram не смог добавить человека, в том числе через другие аккаунты",
        "reason.account_restricted": "аккаунт ограничен антиспам-системой Telegram; продолжит другой аккаунт",
        "reason.account_frozen": "аккаунт заморожен Telegram; продолжит другой аккаунт",
        "reason.account_unauthorized": "сессия аккаунта завершена; продолжит другой аккаунт",
        "reason.account_banned": "аккаунт заблокирован Telegram; продолжит другой аккаунт",
        # история аккаунтов, результаты кампании и черновики (веб-панель, выгрузки CSV)
        "outcome.invited": "добавлен",
        "outcome.already_member": "уже в чате",
        "outcome.failed": "не добавлен",
        "outcome.skipped": "пропущен",
        "outcome.unconfirmed": "принято, ждёт проверки участия",
        "outcome.retry": "будет повторено",
        "account_reason.by_user": "отключён участником пространства",
        "account_reason.re_enabled": "снова включён; ждёт ответа @SpamBot",
        "account_reason.session_undecryptable": "сохранённую сессию нельзя открыть ключами установки; подключите аккаунт снова",
        "account_reason.spambot_limited": "@SpamBot сообщает об ограничении аккаунта",
        "account_reason.frozen_until": "заморожен Telegram; подайте апелляцию до указанной даты, иначе Telegram удалит аккаунт",
        "problem.not_draft": "{field}: менять и удалять можно только черновик (эта кампания — {status})",
        "campaign.paused.chat_full": (
            "целевой чат больше не принимает участников (в канал админы могут добавить не больше 200). "
            "Продолжите, когда чат сможет их принять, или запустите кампанию в другой чат"
        ),
        "campaign.paused.brake_privacy": (
            "автоматический тормоз: большинство последних приглашений отклонены настройками приватности людей — "
            "эта аудитория не хочет, чтобы её добавляли незнакомые. Проверьте аудиторию, прежде чем продолжать"
        ),
        "campaign.paused.brake_left": (
            "автоматический тормоз: большинство людей, проверенных через день после добавления, уже ушли из чата. "
            "Убедитесь, что аудитория подходит сообществу, прежде чем продолжать"
        ),
        "campaign.paused.brake_peer_flood": (
            "автоматический тормоз: Telegram за час ограничил несколько аккаунтов кампании за спам (PEER_FLOOD). "
            "Дайте аккаунтам отдохнуть, прежде чем продолжать"
        ),
        "campaigns.paused_notice": "Кампания «{campaign}» приостановилась сама: {reason}. Оставшиеся люди сохранены.",
        "campaigns.paused_reason": "Пауза: {reason}",
        "problem.campaign_name": "название: от 1 до {max} символов",
        "problem.task_move": "задача в состоянии «{task_status}» не может стать «{task_wanted}»",
        "problem.limit_at_least_1": "{field}: не меньше 1",
        "problem.pause_order": "самая длинная пауза между приглашениями не может быть короче самой короткой",
        "problem.keywords_length": "слова для поиска: от {min} до {max} символов",
        "problem.phone_format": "номер телефона: + и от 7 до 15 цифр",
        "problem.login_code_format": "код входа — от 4 до 8 цифр",
        "problem.member_query": "q: не больше {max} символов",
        "problem.last_seen": "{field}: одно из {allowed}",
        "problem.flag": "{field}: 1 или 0 (true или false)",
        "problem.target_link": "цель: отправьте @username, ссылку t.me или ссылку-приглашение (t.me/+…) вашей группы или канала либо его id",
        "problem.target_no_such_chat": "цель: такого чата нет; проверьте @username, ссылку или id",
        "problem.target_not_member": "цель: ваших аккаунтов нет в этом чате; аккаунт должен быть его админом с правом добавлять участников",
        "problem.target_channel_full": "цель: в этом канале {members} подписчиков; Telegram разрешает админам добавлять людей в канал, только пока в нём меньше 200, поэтому поделитесь ссылкой-приглашением",
        "problem.broadcast_full": "в этом канале уже 200 подписчиков или больше: Telegram не даёт админам добавлять новых; поделитесь ссылкой-приглашением",
        "problem.target_private": "цель: приватные ссылки-приглашения не подходят; задайте чату публичный @username",
        "problem.target_is_person": "цель: это пользователь, а не группа или канал",
        "problem.target_not_found": "цель: ни один из ваших аккаунтов не видит этот чат",
        "problem.audience_unknown": "аудитория: в этом пространстве такой нет",
        "problem.active_hours": "активные часы: два целых часа 0–24 по UTC, например 9-21 (или «любое»)",
        "problem.start_at": "время старта: дата и время по UTC, например 2026-12-01 09:00 (или «сейчас»)",
        "problem.start_at_past": "время старта: должно быть в будущем",
        "problem.start_at_far": "время старта: не дальше чем через {days} дней",
        "problem.preflight_missing": "сначала выполните предварительную проверку",
        "problem.nobody_to_invite": "из этой аудитории в этот чат приглашать больше некого",
        "problem.preflight_status": "предварительная проверка выполняется только до старта или на паузе (кампания: {status})",
        "problem.no_eligible_accounts": "ни один из ваших аккаунтов не может добавлять людей в этот чат: назначьте аккаунт админом с правом добавлять участников",
        "problem.not_paused": "продолжить можно только кампанию на паузе (эта {status})",
        "problem.transition": "сейчас нельзя: кампания {current}",
        "problem.campaign_status": "status: одно или несколько значений из {allowed} через запятую",
        "reason.opted_out": "попросил не приглашать",
        "reason.attempted_before": "уже приглашён в этот чат (или была попытка) раньше",
        "reason.unreachable": "его видел только аккаунт, который не может приглашать сюда, а username нет",
        "reason.in_chat_before": "уже был в чате до кампании",
        "reason.duplicate": "указан в аудитории дважды",
        "campaign.status.draft": "черновик",
        "campaign.status.approval": "ждёт одобрения владельца",
        "campaign.status.scheduled": "запланирована",
        "campaign.status.running": "идёт",
        "campaign.status.paused": "на паузе",
        "campaign.status.waiting": "ожидает",
        "campaign.status.done": "завершена",
        "campaign.status.cancelled": "отменена",
        "campaign.waiting.quota": "все аккаунты исчерпали дневные лимиты; продолжим после 00:00 UTC",
        "campaign.waiting.hours": "вне активных часов",
        "campaign.exclusion.not_a_member": "не состоит в чате",
        "campaign.exclusion.not_admin": "не админ чата",
        "campaign.exclusion.no_invite_right": "админ без права добавлять участников",
        "campaign.exclusion.cannot_see_chat": "не видит чат",
        "campaign.exclusion.unavailable": "сейчас недоступен (вышел, заблокирован, отключён или отдыхает)",
        "campaign.exclusion.lost_rights": "Telegram лишил его права добавлять людей туда во время кампании",
        "accounts.lost_rights_notice": (
            "{account} больше не может добавлять людей в «{chat}» (Telegram: {error}): его нет в чате "
            "или он больше не админ с правом добавлять участников. Кампания продолжается другими "
            "аккаунтами. Снова сделайте его админом с правом добавлять участников и повторите проверку "
            "кампании, чтобы вернуть его."
        ),
        "campaign.exclusion.lifetime_cap": "уже добавил в этот чат максимум",
        "campaign.warning.target_not_found": "Ни один из ваших аккаунтов не видит этот чат.",
        "campaign.warning.no_eligible_accounts": "Ни один из ваших аккаунтов не может добавлять людей в этот чат.",
        "campaign.warning.nobody_to_invite": (
            "Приглашать некого: все из аудитории уже в чате, приглашались раньше или отказались от приглашений. "
            "Соберите ещё людей или выберите другую аудиторию."
        ),
        "campaign.warning.broadcast_200_cap": "В канал Telegram разрешает админам добавлять людей, только пока в нём меньше 200 подписчиков; остальным нужна ссылка-приглашение.",
        "campaign.warning.broadcast_full": "В этом канале 200 подписчиков или больше: Telegram не даёт админам добавлять новых. Поделитесь ссылкой-приглашением.",
        "campaign.warning.unreachable_people": (
            "У части людей нет username, и их видели только аккаунты, которые не могут приглашать сюда "
            "(или они импортированы одними id): Telegram принимает человека только так, как его видел "
            "приглашающий аккаунт. Соберите их источник подходящим аккаунтом (/parse) и проверьте снова."
        ),
        "campaign.warning.broadcast_cap_too_small": "Людей больше, чем канал примет добавлением: остальным нужна ссылка-приглашение.",
        "error.not_found": "Не найдено.",
        "error.busy": "Сейчас это занято другой операцией. Попробуйте через минуту.",
        "error.telegram_error": "Telegram ответил ошибкой. Попробуйте через минуту.",
        "error.method_not_allowed": "Этот метод здесь не поддерживается.",
        "error.payload_too_large": "Слишком большое тело запроса.",
        "error.internal": "Ошибка на нашей стороне. Идентификатор трассировки поможет администратору её найти.",
        "error.not_ready": "Сервис не готов: {problem}.",
        "error.error": "Запрос не выполнен.",
        "parse.usage": (
            "Сбор людей из группы или канала: публичного — по @username или ссылке, закрытого — "
            "по ссылке-приглашению (t.me/+…: сначала в него вступает один из ваших аккаунтов, "
            "вы выбираете какой), обычной группы — по её id (-4001234):\n"
            "/parse <ссылка или @username> [members|comments|authors] [speed=safe|medium|fast] "
            "[priority=high|normal|low] [posts=N] [days=N] [audience=Название]\n\n"
            "members — участники группы (по умолчанию); comments — авторы комментариев под "
            "последними N постами канала (по умолчанию posts=100); authors — авторы сообщений "
            "в группе за последние N дней (по умолчанию days=30).\n"
            "Без audience= люди попадают в аудиторию с названием источника.\n\n"
            "Примеры:\n/parse @some_group\n/parse t.me/some_channel comments posts=50\n"
            '/parse @some_group authors days=7 speed=safe audience="Лучший чат"'
        ),
        "parse.invalid": "Сбор не запущен: {problem}.\n\nОтправьте /parse без параметров, чтобы увидеть, как его записать.",
        "problem.kind": "что собирать: members, comments или authors",
        "problem.speed": "скорость: safe, medium или fast",
        "problem.priority": "приоритет: high, normal или low",
        "problem.posts": "posts: целое число от 1 до {max}",
        "problem.days": "days: целое число от 1 до {max}",
        "problem.name": "audience: название от 1 до {max} символов",
        "problem.option": "непонятно «{option}» (параметры: speed=, priority=, posts=, days=, audience=)",
        "problem.quotes": "кавычка открыта, но не закрыта",
        "problem.file": "нужен CSV-файл в UTF-8, не больше 5 МБ и 100 000 строк",
        "task.head": "Сбор №{id}: {source} · {kind}\nАудитория: «{audience}»",
        "task.status": "Состояние: {status}",
        "task.kind.members": "участники группы",
        "task.kind.comments": "авторы комментариев",
        "task.kind.authors": "авторы сообщений",
        "task.state.queued": "в очереди",
        "task.state.running": "идёт",
        "task.state.paused": "на паузе",
        "task.state.done": "завершён",
        "task.state.failed": "не удался",
        "task.state.cancelled": "отменён",
        "task.queued_hint": "Начнётся, как только освободятся обработчик и один из ваших аккаунтов (приоритет: {priority}, скорость: {speed}).",
        "task.priority.high": "высокий",
        "task.priority.normal": "обычный",
        "task.priority.low": "низкий",
        "task.fetched_of": "Получено: {done} из ~{total} ({percent}%)",
        "task.fetched": "Получено: {done}",
        "task.collected": "Собрано: {collected} (новых: {new}, уже известных: {known})",
        "task.skipped": "Отсеяно фильтрами: {skipped}",
        "task.accounts": "Задействовано аккаунтов: {accounts}",
        "task.elapsed": "Прошло: {elapsed}",
        "task.paused_hint": "На паузе. Продолжение начнётся с того же места; собранное не теряется.",
        "task.summary_done": (
            "Готово: собрано {collected} — новых {new}, уже были в аудитории {known}; "
            "отсеяно фильтрами {skipped}."
        ),
        "task.summary_found": "Найдено поиском по именам сверх лимита Telegram в 10 000 участников: {found}.",
        "task.summary_audience": "В аудитории «{audience}» теперь {size} чел.: /audiences",
        "task.summary_failed": "Не удалось: {reason}.",
        "task.summary_partial": "В аудитории сохранено: собрано {collected}, из них новых {new}.",
        "task.summary_cancelled": "Отменён. Собранное остаётся в аудитории: {collected} (новых {new}).",
        "task.pause": "⏸ Пауза",
        "task.resume": "▶️ Продолжить",
        "task.cancel": "✖️ Отменить",
        "task.paused_done": "Поставлено на паузу.",
        "task.resumed_done": "Продолжено: задача снова в очереди.",
        "task.cancelled_done": "Отменено.",
        "task.cannot": "Нельзя: задача уже в состоянии «{status}».",
        "parse.error.invite_expired": "срок действия ссылки-приглашения истёк, или её отозвали (попросите у админов чата новую)",
        "parse.error.invite_invalid": "Telegram не знает такой ссылки-приглашения",
        "parse.error.channels_too_much": "аккаунт уже состоит в слишком многих каналах и группах; пусть выйдет из части, или выберите другой аккаунт",
        "parse.error.join_account": "аккаунт, выбранный для вступления в чат, не может работать (удалён, вышел из сессии или заблокирован)",
        "task.join_requested": "Ждём, пока админы чата примут заявку аккаунта на вступление; сбор начнётся, как только примут.",
        "task.join_flood_wait": "Telegram попросил аккаунт подождать перед вступлением; он вступит после паузы.",
        "parse.join_pick": "Это закрытый чат: один из ваших аккаунтов вступит в него по ссылке и соберёт участников. Какой?",
        "parse.join_gone": "Этот выбор уже недоступен; отправьте /parse со ссылкой ещё раз.",
        "parse.join_chat": "«{title}»: закрытый чат, участников: {members}.",
        "parse.join_approval": "Вступление требует одобрения админов: сбор подождёт, пока они примут заявку.",
        "parse.join_by": "Вступает {account}.",
        "parse.error.source_not_found": "чата с таким именем нет",
        "parse.error.no_access": "ни один из ваших аккаунтов не может читать этот чат (он закрытый, или аккаунты там заблокированы)",
        "parse.error.no_discussion": "у канала нет группы обсуждения, поэтому собирать комментарии неоткуда",
        "parse.error.not_a_group": (
            "это не группа: это человек или канал, подписчиков которого видят только его "
            "администраторы (соберите авторов комментариев)"
        ),
        "parse.error.no_accounts": "нет подключённого аккаунта, который может работать; подключите его через /link или включите в /accounts",
        "parse.error.private_link": "из приватных ссылок-приглашений собирать нельзя; укажите публичный @username",
        "parse.error.internal_error": "несколько раз подряд произошла неожиданная ошибка; администратор найдёт её в журналах",
        "parse.error.telegram_error": "Telegram раз за разом отвечал ошибками; попробуйте позже",
        "parse.error.unknown": "неожиданная ошибка ({code})",
        "duration.s": "{s} с",
        "duration.ms": "{m} мин {s} с",
        "duration.hm": "{h} ч {m} мин",
        "tasks.title": "Задачи сбора, сначала новые:",
        "tasks.empty": "Задач сбора пока нет. Запустите сбор командой /parse (отправьте /parse без параметров, чтобы увидеть подсказку).",
        "tasks.item": "• №{id} {source} · {kind} — {status}\n   {progress}",
        "tasks.progress_of": "получено {done} из ~{total} ({percent}%), собрано {collected}",
        "tasks.progress": "получено {done}, собрано {collected}",
        "tasks.pause": "⏸ Пауза №{id}",
        "tasks.resume": "▶️ Продолжить №{id}",
        "tasks.cancel": "✖️ Отменить №{id}",
        "list.next_page": "Дальше ›",
        "list.first_page": "‹ К началу",
        "audiences.title": "Ваши аудитории:",
        "audiences.empty": "Аудиторий пока нет. Соберите аудиторию командой /parse или найдите сообщества через /search.",
        "audiences.item": "• «{name}» — {size} чел.",
        "audiences.item_pending": "• «{name}» — {size} чел. и ещё {pending} известны только по username",
        "audiences.footer": "Экспорт — это CSV-файл; импорт принимает CSV-файл со столбцами user_id и/или username.",
        "audiences.export": "⬇️ Выгрузить «{name}»",
        "audiences.import": "⬆️ Импорт в «{name}»",
        "audiences.delete": "🗑 Удалить «{name}»",
        "audiences.export_caption": "Аудитория «{name}»: {size} чел.",
        "audiences.export_too_big": "Аудитория слишком большая, чтобы отправить её здесь; выгрузите её в веб-панели.",
        "audiences.exporting": "Готовлю файл…",
        "audiences.import_ask": (
            "Отправьте CSV-файл для «{name}» документом (файлом, а не текстом): заголовок со "
            "столбцами user_id и/или username или по одному id или @username в строке; до 5 МБ. "
            "/cancel — отменить импорт."
        ),
        "audiences.import_not_document": "Отправьте CSV файлом (документом). /cancel — отменить импорт.",
        "audiences.import_too_big": "Файл больше {mb} МБ. Разделите его и отправьте части по очереди.",
        "audiences.import_failed": "Файл не импортирован: {problem}. Отправьте исправленный файл или /cancel.",
        "audiences.import_report": (
            "Импорт в «{name}»: строк {lines}, принято {accepted}, "
            "новых людей {new_members} и новых username {new_usernames}."
        ),
        "audiences.import_errors": "Строки с ошибками ({count}):",
        "audiences.import_line": "• строка {line}: {problem}",
        "audiences.import_line_value": "• строка {line}: {problem} — «{value}»",
        "audiences.import_more": "…и ещё {count}.",
        "audiences.import_cancelled": "Импорт отменён.",
        "audiences.import_unreachable": (
            "У {count} из них есть id, но нет username. Telegram принимает человека только так, как "
            "его видел аккаунт, поэтому по одному id пригласить нельзя: соберите группу, откуда они, "
            "одним из ваших аккаунтов (/parse), и они станут доступны."
        ),
        "import.problem.bad_username": "неверный username",
        "import.problem.bad_user_id": "неверный id пользователя",
        "import.problem.no_user_id_or_username": "нет ни id пользователя, ни username",
        "audiences.delete_confirm": "Удалить аудиторию «{name}» ({size} чел.)? Это нельзя отменить.",
        "audiences.delete_yes": "Да, удалить",
        "audiences.delete_no": "Нет, оставить",
        "audiences.deleted": "Аудитория «{name}» удалена.",
        "search.usage": "Отправьте ключевые слова после команды, например: /search крипто новости",
        "search.bad_keywords": "Ключевые слова: от {min} до {max} символов, например: /search крипто новости",
        "search.no_accounts": (
            "Для поиска нужен один из ваших аккаунтов Telegram, а подключённого и работающего нет. "
            "Подключите аккаунт через /link (или включите его в /accounts) и повторите поиск."
        ),
        "search.busy": "Все ваши аккаунты сейчас заняты или отдыхают. Попробуйте через минуту.",
        "search.nothing": "По запросу «{keywords}» не найдено групп и каналов с комментариями.",
        "search.title": "Сообщества по запросу «{keywords}», сначала лучшие:",
        "search.item": "{n}. {title} {username} — {kind}\n   участников: {members} · активных комментаторов: {commenters} · оценка: {score}",
        "search.no_username": "(без публичного имени)",
        "search.kind.group": "группа",
        "search.kind.megagroup": "супергруппа",
        "search.kind.channel": "канал с комментариями",
        "search.parse_members": "Собрать №{n}: участников",
        "search.parse_comments": "Собрать №{n}: комментаторов",
        "search.created": "Задача №{id} в очереди.",
        # /campaign_new
        "campaign_new.no_accounts": "Для приглашений нужен подключённый аккаунт Telegram. Подключите его командой /link и снова отправьте /campaign_new.",
        "campaign_new.no_audiences": "Пока некого приглашать: нет аудиторий. Соберите аудиторию командой /parse (или импортируйте CSV в /audiences) и снова отправьте /campaign_new.",
        "campaign_new.pick_audience": "Новая кампания, шаг 1 из 5: кого приглашаем? Выберите аудиторию. /cancel — отмена.",
        "campaign_new.audience_button": "{name} · {size} чел.",
        "campaign_new.audience_chosen": "Аудитория: «{name}» ({size} чел.).",
        "campaign_new.ask_target": (
            "Шаг 2 из 5: куда? Выберите чат, куда ваши аккаунты могут добавлять людей, или отправьте его "
            "@username, ссылку t.me, ссылку-приглашение (t.me/+…) или id (например, -1001234567890)."
        ),
        "campaign_new.ask_target_typed": (
            "Шаг 2 из 5: куда? Пока ни один ваш аккаунт не может добавлять людей в чат (сделайте его админом "
            "с правом добавлять участников). Можно отправить @username чата, ссылку t.me, ссылку-приглашение (t.me/+…) или id."
        ),
        "campaign_new.chat_button": "{title} · {members} уч.",
        "campaign_new.chat_chosen": "Чат: «{title}».",
        "campaign_new.ask_start": "Шаг 3 из 5: когда начать? Нажмите «Сейчас» или отправьте дату и время по UTC, например 2026-12-01 09:00.",
        "campaign_new.now": "▶️ Сейчас",
        "campaign_new.ask_hours": "Шаг 4 из 5: в какие часы можно приглашать? Нажмите «В любое время» или отправьте часы по UTC, например 9-21.",
        "campaign_new.any_time": "🕐 В любое время",
        "campaign_new.ask_limits": (
            "Шаг 5 из 5: лимиты этой кампании. Нажмите «Лимиты установки» или отправьте более строгие "
            "в виде имя=число, например daily_per_target=40 pause_min_s=1200.\nСейчас: {limits}"
        ),
        "campaign_new.std_limits": "⚖️ Лимиты установки",
        "campaign_new.limits_std": "Лимиты: как у установки.",
        "campaign_new.limits_own": "Лимиты: {limits}.",
        "campaign_new.bad_input": "Не получилось: {problem}. Попробуйте ещё раз или /cancel.",
        "campaign_new.failed": "Кампания не создана: {problem}. Отправьте /campaign_new, чтобы попробовать снова.",
        "campaign_new.checking": "«{name}» сохранена как черновик. Проверяю чат вашими аккаунтами…",
        "campaign_new.target_again": "Этот чат не подходит: {problem}. Отправьте другой или /cancel.",
        "campaign_new.cancelled": "Новая кампания отменена, ничего не сохранено.",
        "campaign_new.expired": "Этот шаг уже пройден. Отправьте /campaign_new, чтобы начать новую кампанию.",
        # the pre-flight report
        "preflight.title": "Предварительная проверка «{name}»",
        "preflight.eligible": "Будут приглашать ({count}): {accounts}",
        "preflight.eligible_none": "Будут приглашать: ни один из ваших аккаунтов",
        "preflight.unchecked": "Сейчас заняты, проверят чат сами, когда начнут ({count}): {accounts}",
        "preflight.excluded": "Не участвуют:",
        "preflight.unreachable": "Недоступны никому: {count} (см. предупреждение ниже)",
        "preflight.counts": "Уже в чате: {already}\nПриглашались раньше: {before}\nОтказались от приглашений: {opted}\nПригласить: {to_invite}",
        "preflight.days": "Дней до завершения при дневных лимитах: около {days}",
        "preflight.days_never": "Этим аккаунтам не закончить: каждый добавляет в один чат не больше {cap} человек.",
        "preflight.ready": "Всё готово: запустите сейчас или оставьте черновиком.",
        "preflight.not_ready": "Пока не готово: исправьте то, что указано выше, и проверьте снова.",
        "preflight.start": "▶️ Запустить",
        "preflight.check": "🔄 Проверить снова",
        "preflight.keep": "📝 Оставить черновиком",
        "preflight.cancel": "✖️ Отменить кампанию",
        # /campaigns and the campaign card
        "campaigns.title": "Ваши кампании, сначала новые:",
        "campaigns.empty": "Кампаний пока нет. Создайте первую командой /campaign_new.",
        "campaigns.item": "• №{id} {name} — {status}\n   готово {done}/{total} · приглашено {invited} · ошибок {failed}",
        "campaigns.open": "№{id} {name}",
        "campaigns.head": "Кампания №{id}: {name}",
        "campaigns.chat": "Чат: «{title}», {kind}",
        "campaigns.chat_unknown": "Чат: {target}",
        "campaigns.kind.group": "обычная группа",
        "campaigns.kind.megagroup": "супергруппа",
        "campaigns.kind.channel": "канал",
        "campaigns.status": "Статус: {status}",
        "campaigns.waiting": "Ожидание: {reason}",
        "campaigns.start_now": "Старт: сразу",
        "campaigns.start_at": "Старт: {at} UTC",
        "campaigns.hours": "Активные часы: {start}:00–{end}:00 UTC",
        "campaigns.hours_any": "Активные часы: любое время",
        "campaigns.progress": "Прогресс: {done}/{total} {bar} {percent}%",
        "campaigns.counts": "Ждут {pending} · приглашено {invited} · уже в чате {already} · ошибок {failed} · пропущено {skipped}",
        "campaigns.counts_unconfirmed": "проверяем {count}",
        "campaigns.not_checked": "Ещё не проверена: «Запустить» сначала проверит чат вашими аккаунтами.",
        "campaigns.reasons": "Главные причины:",
        "campaigns.follow_up_hint": "{count} чел. могут вступить только по ссылке-приглашению: список — в «Отчёте».",
        "campaigns.start": "▶️ Запустить",
        "campaigns.pause": "⏸ Пауза",
        "campaigns.resume": "▶️ Продолжить",
        "campaigns.cancel": "✖️ Отменить",
        "campaigns.dup": "📄 Копия",
        "campaigns.report": "📊 Отчёт",
        "campaigns.card": "🔄 Обновить",
        "campaigns.checking": "Проверяю чат кампании «{name}» вашими аккаунтами…",
        "campaigns.cannot": "Нельзя: {problem}.",
        "campaigns.cannot_now": "Нельзя: кампания {status}.",
        "campaigns.kept": "Оставлена черновиком: она в /campaigns.",
        "campaigns.duplicated": "Копия №{id} — новый черновик.",
        "campaigns.done.running": "Запущена.",
        "campaigns.done.approval": "Отправлена владельцу пространства: такая большая кампания начнётся после его одобрения.",
        "campaigns.done.draft": "Возвращена: снова черновик.",
        "campaigns.approval_ask": (
            "{by} просит запустить «{name}»: пригласить {to_invite} человек — больше, чем менеджер запускает сам. "
            "Одобрите, чтобы начать, или отклоните, чтобы вернуть черновиком."
        ),
        "campaigns.approve": "✅ Одобрить",
        "campaigns.reject": "↩️ Отклонить",
        "campaigns.approved_notice": "Владелец одобрил кампанию «{campaign}»: она начинается.",
        "campaigns.rejected_notice": "Владелец вернул кампанию «{campaign}»: она снова черновик.",
        "problem.not_awaiting_approval": "{field}: эта кампания не ждёт одобрения (она {status})",
        "campaigns.done.scheduled": "Запланирована.",
        "campaigns.done.waiting": "В работе, пока ожидает.",
        "campaigns.done.paused": "На паузе.",
        "campaigns.done.cancelled": "Отменена.",
        "campaigns.report_title": "Отчёт по кампании №{id}: {name}",
        "campaigns.report_reasons": "Почему люди не добавлены:",
        "campaigns.report_no_reasons": "Пока ни ошибок, ни пропусков.",
        "campaigns.report_accounts": "Аккаунты:",
        "campaigns.report_account": "• {account}: приглашено {invited}, ошибок {failed} · сегодня {today} из {limit}",
        "campaigns.follow_up": "Отправьте им ссылку-приглашение {link} ({count}):",
        "campaigns.follow_up_no_link": "Отправьте им ссылку-приглашение в чат ({count}):",
        "campaigns.follow_up_more": "…и другие: полный список — в веб-панели.",
        "campaigns.follow_up_optout": "Добавьте в сообщение строку: Не хотите приглашений? Откройте {link}",
        "campaigns.follow_up_none": "Пока никому не нужна ссылка-приглашение.",
        # the daily report
        "daily.title": "Отчёт за {day} (UTC)",
        "daily.attempts": "Попыток пригласить: {total}",
        "daily.outcome.invited": "приглашено",
        "daily.outcome.already_member": "уже в чате",
        "daily.outcome.unconfirmed": "приняты, ждут проверки участия",
        "daily.outcome.failed": "ошибки",
        "daily.outcome.skipped": "пропущено",
        "daily.outcome.retry": "будут повторены",
        "daily.no_attempts": "В этот день попыток пригласить не было.",
        "daily.working": "Кампании в работе:",
        "daily.campaign": "• №{id} {name} — {status}\n   {progress}",
        "daily.none_working": "Сейчас ни одна кампания не работает.",
        "error.no_accounts": "Ни один подключённый аккаунт Telegram этого пространства сейчас не может это сделать. Подключите аккаунт в боте командой /link.",
        # /team, /team_add, /team_remove
        "team.title": "Команда «{workspace}» (вы — {role}):",
        "team.role.owner": "владелец",
        "team.role.manager": "менеджер",
        "team.owner_hint": (
            "Добавить менеджера: /team_add @username (он должен сначала отправить мне /start). "
            "Убрать: /team_remove."
        ),
        "team.manager_hint": "Менеджеры ведут аккаунты, аудитории и кампании; командой управляет владелец.",
        "team.workspaces": "Ваши пространства (я работаю в отмеченном ✓):",
        "team.leave": "Выйти из «{workspace}»",
        "team.switched": "Теперь работаем в «{workspace}».",
        "team.not_owner": "Командой «{workspace}» управляет только владелец.",
        "team.failed": "Не получилось: {problem}.",
        "team_add.usage": "Кого добавить? Отправьте /team_add @username. Человек должен сначала отправить мне /start.",
        "team.added": "{name} теперь менеджер «{workspace}». Я ему сообщил.",
        "team_remove.choose": "Кого убрать из «{workspace}»?",
        "team_remove.none": "В «{workspace}» нет менеджеров. Добавьте: /team_add @username.",
        "team_remove.button": "Убрать {name}",
        "team.removed": "{name} больше не в «{workspace}».",
        "team.left": "Вы вышли из «{workspace}». Теперь работаем в «{current}».",
        "team.added_notice": "{by} добавил вас в команду «{workspace}» менеджером. Отправьте /team, чтобы переключиться.",
        "team.removed_notice": "{by} убрал вас из команды «{workspace}».",
        "team.left_notice": "{member} вышел из вашей команды «{workspace}».",
        "problem.team_username": "username: имя пользователя Telegram, например @name",
        "problem.team_not_registered": (
            "@{username} ещё не запускал этого бота: попросите его отправить боту /start и добавьте снова"
        ),
        "problem.team_already_member": "@{username} уже в этой команде",
        "problem.team_not_member": "@{username} нет в этой команде",
        "problem.team_owner": "владелец всегда остаётся в команде",
        "problem.team_full": "в команде не больше {max} человек",
        # /optout, /optin (все) и /optouts, /optouts_add, /optouts_remove (список пространства)
        "optout.done": (
            "Готово. Никто из пользователей этого бота больше не пригласит вас в группы и каналы — ни в одном "
            "из его пространств. Больше ничего не меняется: вступать в чаты сами вы можете как прежде.\n"
            "Передумаете — отправьте /optin."
        ),
        "optout.already": "Вы уже отказались от приглашений: через этого бота вас никто не приглашает. Отменить — /optin.",
        "optout.group": "Чтобы отказаться от приглашений, напишите мне в личный чат и отправьте там /optout.",
        "optin.done": (
            "Готово: приглашать вас через этого бота снова можно. Пространство может держать вас в своём "
            "списке. Снова запретить — /optout."
        ),
        "optin.not_listed": "Вы не отказывались от приглашений, отменять нечего. Запретить приглашения — /optout.",
        "optouts.title": "Кого «{workspace}» никогда не приглашает: {count}",
        "optouts.item": "• {person}{reason}, с {date}",
        "optouts.reason.owner": " (добавил владелец)",
        "optouts.reason.import": " (импорт)",
        "optouts.reason.erased": " (стёрт)",
        # /erase (владелец) и что задачи хранения сообщают владельцу
        "erase.usage": (
            "Кого стереть? Отправьте /erase <id> или /erase @username. Всё, что пространство хранит о человеке, "
            "удаляется; остаётся только запись об отказе, чтобы его больше никогда не приглашали."
        ),
        "erase.confirm": (
            "Стереть {person} из «{workspace}»? Его записи в аудиториях, кампаниях и отчётах удалятся навсегда; "
            "останется только запись об отказе, чтобы его больше никогда не приглашали."
        ),
        "erase.yes": "Стереть",
        "erase.no": "Отмена",
        "erase.cancelled": "Ничего не стёрто.",
        "erase.not_owner": "Стирать людей может только владелец «{workspace}».",
        "erase.failed": "Не сделано: {problem}.",
        "erase.done": "{person} стёрт: удалено записей — {total}.",
        "erase.counts": (
            "Аудитории: {audiences} · цели кампаний: {targets} · попытки приглашения обезличены: {events} · "
            "журнал и проверки удержания: {ledger}"
        ),
        "erase.kept": "Запись об отказе не даст пригласить его снова.",
        "erase.no_id": "Пространство знало его только по имени пользователя: если его соберут снова, удержать его нечем.",
        "problem.erase_person": "id Telegram (цифры) или @username",
        "audiences.expiring_notice": (
            "Вашей аудиторией «{name}» ({size} чел.) давно не пользовались, и {date} она будет удалена "
            "(аудитории, не использованные {days} дн., удаляются). Запустите из неё кампанию или соберите в неё "
            "людей, чтобы сохранить её."
        ),
        "audiences.expired_notice": "Ваша аудитория «{name}» ({size} чел.) удалена: ею не пользовались {days} дн.",
        "retention.line": "Остались на день: {stayed_day} из {day_checked} проверенных · на неделю: {stayed_week} из {week_checked} (из {added} добавленных)",
        "optouts.empty": "Пока никого.",
        "optouts.owner_hint": (
            "Добавить: /optouts_add 123456789 (id в Telegram) или /optouts_add @username (только username, "
            "который есть в одной из ваших аудиторий). Убрать: /optouts_remove так же. Импорт и экспорт CSV — в веб-панели.\n"
            "Кроме того, любой может отказаться от приглашений всех пространств этой установки: отправить мне "
            "/optout или открыть {link}"
        ),
        "optouts.manager_hint": (
            "Добавляет и убирает людей владелец. Любой может отказаться от приглашений всех пространств этой "
            "установки: отправить мне /optout или открыть {link}"
        ),
        "optouts.not_owner": "Список отказов «{workspace}» меняет только владелец.",
        "optouts.add_usage": (
            "Кого ваше пространство никогда не должно приглашать? Отправьте /optouts_add 123456789 (id в Telegram) "
            "или /optouts_add @username (только username, который есть в одной из ваших аудиторий)."
        ),
        "optouts.remove_usage": "Кого убрать из списка? Отправьте /optouts_remove 123456789 или /optouts_remove @username.",
        "optouts.added": "{person} в списке: «{workspace}» никогда не пригласит этого человека.",
        "optouts.already": "{person} уже в списке «{workspace}».",
        "optouts.removed": "{person} больше не в списке «{workspace}». Кто отказался сам через /optout, тот остаётся в стороне.",
        "optouts.not_listed": "{person} нет в списке «{workspace}».",
        "optouts.failed": "Не сделано: {problem}.",
        "problem.optout_bad_person": "id в Telegram (цифры) или @username",
        "problem.optout_unknown_username": (
            "@{username} нет ни в одной из ваших аудиторий, поэтому я не знаю id: отправьте id в Telegram"
        ),
    },
}


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(language: str | None, key: str, **params: Any) -> str:
    """The sentence for `key` in `language` (English when unknown), placeholders filled."""
    texts = CATALOG.get(language or DEFAULT_LANGUAGE, CATALOG[DEFAULT_LANGUAGE])
    template = texts.get(key) or CATALOG[DEFAULT_LANGUAGE].get(key) or key
    return template.format_map(_Missing(params))


# Placeholders that hold a status code, and where each one's words are.
_STATUS_PARAMS = {
    "status": "campaign.status",
    "current": "campaign.status",
    "wanted": "campaign.status",
    "task_status": "task.state",
    "task_wanted": "task.state",
}


def problem_params(language: str | None, details: dict[str, Any]) -> dict[str, Any]:
    """A problem's details as placeholders: campaign and task statuses named in the reader's
    language."""
    params = {k: v for k, v in details.items() if k != "problem"}
    for name, prefix in _STATUS_PARAMS.items():
        value = params.get(name)
        if isinstance(value, str) and has_text(f"{prefix}.{value}"):
            params[name] = t(language, f"{prefix}.{value}")
    return params


def refusal_message(language: str | None, details: dict[str, Any]) -> str:
    """A refused input (`InvalidInput`) as a person reads it: the problem's sentence, starting
    with a capital and ending with a full stop, with no "Invalid request:" or code before it
    (programs read the code in `details.problem`). A field the catalog has a label for
    (`field.<name>`) is named in words; a problem without a sentence is shown as it is."""
    problem = str(details.get("problem") or "")
    key = f"problem.{problem}"
    if has_text(key):
        params = problem_params(language, details)
        field = params.get("field")
        if isinstance(field, str) and has_text(f"field.{field}"):
            params["field"] = t(language, f"field.{field}")
        problem = t(language, key, **params)
    text = problem.strip() or t(language, "error.error")
    first = text.split(maxsplit=1)[0]
    if "_" not in first and "." not in first:  # an identifier (`campaign_id:`) stays as it is
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def has_text(key: str) -> bool:
    return key in CATALOG[DEFAULT_LANGUAGE]


def pick_language(accept_language: str | None) -> str:
    """Best of ru/en from an Accept-Language header."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang in CATALOG and q > best_q:
            best, best_q = lang, q
    return best
