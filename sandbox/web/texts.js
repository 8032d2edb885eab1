// The page's texts in English and Russian, kept like the web panel's (webui_api/static/i18n.js,
// whose helpers these repeat: the sandbox page is served apart from the product and loads
// nothing of it).
// What the bot says comes from the bot, in the language the person chats in.

const LANGUAGE_KEY = 'tgi-sandbox-lang';
export const LANGUAGES = ['en', 'ru'];

const en = {
  'lang.en': 'English',
  'lang.ru': 'Русский',
  'header.title': 'tg-inviter sandbox',
  'header.subtitle': 'A simulated Telegram: chat with the bot as anyone in this world. Nothing here reaches Telegram.',
  'header.actingAs': 'Acting as',
  'header.person': 'The person you chat as',
  'header.language': 'Language',
  'error.unreachable': 'The sandbox cannot be reached. Is it still running?',

  'person.new': 'New person…',
  'person.firstName': 'First name',
  'person.username': 'Username',
  'person.phone': 'Phone',
  'person.id': 'User id',
  'person.create': 'Create',
  'person.created': '{name} is now a person of this world.',
  'person.failed': 'Not created: {problem}',

  'chat.title': 'Chat with the bot',
  'chat.titleAs': 'Chat with the bot as {name}',
  'chat.hint': 'Start with /start. /link shows a QR code: scan it with the phone beside this chat.',
  'chat.nobody': 'The world has nobody to chat as yet: create a person first.',
  'chat.empty': 'No messages yet. Say /start.',
  'chat.message': 'Message',
  'chat.placeholder': 'Write a message or a command, e.g. /start',
  'chat.send': 'Send',
  'chat.failed': 'Not sent: {problem}',
  'chat.pressed': 'Pressed “{button}”.',
  'chat.photo': 'Photo from the bot',
  'chat.edited': 'edited',
  'chat.deleted': 'deleted',
  'chat.fromBot': 'The bot',
  'chat.fromPerson': '{name}',
  'chat.kind.group': 'group',
  'chat.kind.megagroup': 'supergroup',
  'chat.kind.channel': 'channel',

  'phone.title': 'Phone',
  'phone.titleOf': '{name}’s phone',
  'phone.noNumber': 'no phone number',
  'phone.twoFactor': '2FA password set',
  'phone.linkTitle': 'Link a desktop device',
  'phone.linkHint': 'Telegram → Settings → Devices → Link Desktop Device. One click scans the QR code the bot showed.',
  'phone.scan': 'Scan the QR code',
  'phone.qrWaiting': 'A QR code is waiting to be scanned.',
  'phone.qrNone': 'No QR code is waiting. Send /link to the bot first.',
  'phone.scanned': 'Scanned: the new device logs in as {name}.',
  'phone.scanFailed': 'Not scanned: {problem}',
  'phone.codesTitle': 'Login codes',
  'phone.codesHint': 'Codes Telegram sends when someone logs in by phone number (/link_phone).',
  'phone.codesNone': 'No codes yet.',
  'phone.codeValid': 'valid',
  'phone.codeUsed': 'used or expired',
  'phone.codeType.app': 'in the app',
  'phone.codeType.sms': 'by SMS',
  'phone.codeType.call': 'by a call',
  'phone.codeType.setup_email': 'email setup',

  'world.title': 'The world',
  'tab.chats': 'Chats',
  'tab.invites': 'Invites',
  'tab.people': 'People',
  'tab.faults': 'Faults',
  'world.members': '{count} members',
  'world.membersOf': 'Members of {title}',
  'world.hidden': 'hidden member list',
  'world.noMembers': 'Nobody.',
  'world.person': 'Person',
  'world.joined': 'Joined',
  'world.addedBy': 'Added by',
  'world.role': 'Role',
  'world.creator': 'creator',
  'world.admin': 'admin',
  'world.invitesHint': 'Every invite request accounts sent, newest first, and how Telegram answered it.',
  'world.time': 'Time',
  'world.account': 'Account',
  'world.invitee': 'Invited',
  'world.outcome': 'Answer',
  'world.ok': 'OK',
  'world.noInvites': 'No invites yet.',
  'world.peopleHint': 'How an invite of each person ends is theirs to set (their privacy settings and such).',
  'world.id': 'Id',
  'world.phone': 'Phone',
  'world.inviteOutcome': 'When invited',
  'world.inviteOutcomeOf': 'When {name} is invited',
  'world.outcomeSet': 'Invites of {name}: {outcome}.',
  'world.bot': 'bot',
  'world.deleted': 'deleted account',
  'world.noPeople': 'Nobody yet.',
  'outcome.ok': 'joins',
  'outcome.privacy': 'privacy forbids it',
  'outcome.not_mutual': 'not a mutual contact',
  'outcome.too_many_channels': 'in too many chats',
  'outcome.missing_invitee': 'missing invitee',
  'outcome.deactivated': 'deactivated',
  'outcome.silent': 'nothing happens',
  'outcome.phantom': 'reported but not added',

  'fault.hint': 'The next calls of a request fail with Telegram’s error, e.g. a flood wait while inviting.',
  'fault.method': 'Request',
  'fault.error': 'Error',
  'fault.count': 'How many calls',
  'fault.onlyPerson': 'only calls by {name}’s account',
  'fault.add': 'Inject',
  'fault.added': 'The next {method} fails with {error}.',
  'fault.remaining': 'Calls left',
  'fault.anyone': 'any account',
  'fault.none': 'No faults waiting.',
  'fault.about.FLOOD_WAIT_60': 'wait a minute',
  'fault.about.PEER_FLOOD': 'the account is limited',
  'fault.about.USER_PRIVACY_RESTRICTED': 'privacy forbids it',
  'fault.about.AUTH_KEY_UNREGISTERED': 'logged out',
};

const ru = {
  'lang.en': 'English',
  'lang.ru': 'Русский',
  'header.title': 'Песочница tg-inviter',
  'header.subtitle': 'Имитация Telegram: переписывайтесь с ботом от имени любого человека этого мира. Ничего не уходит в Telegram.',
  'header.actingAs': 'От имени',
  'header.person': 'От чьего имени вы пишете',
  'header.language': 'Язык',
  'error.unreachable': 'Песочница не отвечает. Она ещё работает?',

  'person.new': 'Новый человек…',
  'person.firstName': 'Имя',
  'person.username': 'Имя пользователя',
  'person.phone': 'Телефон',
  'person.id': 'Id пользователя',
  'person.create': 'Создать',
  'person.created': '{name} теперь живёт в этом мире.',
  'person.failed': 'Не создан: {problem}',

  'chat.title': 'Чат с ботом',
  'chat.titleAs': 'Чат с ботом от имени {name}',
  'chat.hint': 'Начните с /start. /link покажет QR-код: отсканируйте его телефоном рядом с чатом.',
  'chat.nobody': 'В мире пока некому писать: сначала создайте человека.',
  'chat.empty': 'Сообщений пока нет. Напишите /start.',
  'chat.message': 'Сообщение',
  'chat.placeholder': 'Сообщение или команда, например /start',
  'chat.send': 'Отправить',
  'chat.failed': 'Не отправлено: {problem}',
  'chat.pressed': 'Нажата кнопка «{button}».',
  'chat.photo': 'Фото от бота',
  'chat.edited': 'изменено',
  'chat.deleted': 'удалено',
  'chat.fromBot': 'Бот',
  'chat.fromPerson': '{name}',
  'chat.kind.group': 'группа',
  'chat.kind.megagroup': 'супергруппа',
  'chat.kind.channel': 'канал',

  'phone.title': 'Телефон',
  'phone.titleOf': 'Телефон: {name}',
  'phone.noNumber': 'без номера телефона',
  'phone.twoFactor': 'есть пароль 2FA',
  'phone.linkTitle': 'Подключить компьютер',
  'phone.linkHint': 'Telegram → Настройки → Устройства → Подключить устройство. Один щелчок сканирует QR-код, который показал бот.',
  'phone.scan': 'Сканировать QR-код',
  'phone.qrWaiting': 'QR-код ждёт сканирования.',
  'phone.qrNone': 'QR-кода нет. Сначала отправьте боту /link.',
  'phone.scanned': 'Отсканировано: новое устройство входит как {name}.',
  'phone.scanFailed': 'Не отсканировано: {problem}',
  'phone.codesTitle': 'Коды входа',
  'phone.codesHint': 'Коды, которые Telegram присылает при входе по номеру телефона (/link_phone).',
  'phone.codesNone': 'Кодов пока нет.',
  'phone.codeValid': 'действует',
  'phone.codeUsed': 'использован или истёк',
  'phone.codeType.app': 'в приложении',
  'phone.codeType.sms': 'по SMS',
  'phone.codeType.call': 'звонком',
  'phone.codeType.setup_email': 'настройка почты',

  'world.title': 'Мир',
  'tab.chats': 'Чаты',
  'tab.invites': 'Приглашения',
  'tab.people': 'Люди',
  'tab.faults': 'Сбои',
  'world.members': 'участников: {count}',
  'world.membersOf': 'Участники: {title}',
  'world.hidden': 'список участников скрыт',
  'world.noMembers': 'Никого.',
  'world.person': 'Человек',
  'world.joined': 'Вступил',
  'world.addedBy': 'Кем добавлен',
  'world.role': 'Роль',
  'world.creator': 'создатель',
  'world.admin': 'админ',
  'world.invitesHint': 'Все запросы приглашений от аккаунтов, сначала новые, и ответ Telegram на каждый.',
  'world.time': 'Время',
  'world.account': 'Аккаунт',
  'world.invitee': 'Кого пригласили',
  'world.outcome': 'Ответ',
  'world.ok': 'OK',
  'world.noInvites': 'Приглашений пока нет.',
  'world.peopleHint': 'Чем кончится приглашение каждого человека, решает он сам (настройки приватности и прочее).',
  'world.id': 'Id',
  'world.phone': 'Телефон',
  'world.inviteOutcome': 'При приглашении',
  'world.inviteOutcomeOf': 'Что будет, если пригласить: {name}',
  'world.outcomeSet': 'Приглашения {name}: {outcome}.',
  'world.bot': 'бот',
  'world.deleted': 'удалённый аккаунт',
  'world.noPeople': 'Пока никого.',
  'outcome.ok': 'вступает',
  'outcome.privacy': 'запрещено настройками приватности',
  'outcome.not_mutual': 'не взаимный контакт',
  'outcome.too_many_channels': 'состоит в слишком многих чатах',
  'outcome.missing_invitee': 'не добавлен (missing invitee)',
  'outcome.deactivated': 'аккаунт удалён',
  'outcome.silent': 'ничего не происходит',
  'outcome.phantom': 'сообщено, но не добавлен',

  'fault.hint': 'Следующие вызовы запроса получат ошибку Telegram, например ожидание из-за флуда при приглашении.',
  'fault.method': 'Запрос',
  'fault.error': 'Ошибка',
  'fault.count': 'Сколько вызовов',
  'fault.onlyPerson': 'только вызовы аккаунта: {name}',
  'fault.add': 'Добавить сбой',
  'fault.added': 'Следующий {method} получит {error}.',
  'fault.remaining': 'Осталось вызовов',
  'fault.anyone': 'любой аккаунт',
  'fault.none': 'Сбоев не ждёт.',
  'fault.about.FLOOD_WAIT_60': 'подождать минуту',
  'fault.about.PEER_FLOOD': 'аккаунт ограничен',
  'fault.about.USER_PRIVACY_RESTRICTED': 'запрещено приватностью',
  'fault.about.AUTH_KEY_UNREGISTERED': 'выход из аккаунта',
};

export const CATALOG = { en, ru };
let current = 'en';

function normalize(code) {
  return String(code ?? '').toLowerCase().startsWith('ru') ? 'ru' : 'en';
}

export function getLanguage() {
  return current;
}

export function setLanguage(code) {
  current = normalize(code);
}

/** The language picked on this page before, else the browser's. */
export function startLanguage(fallback) {
  setLanguage(localStorage.getItem(LANGUAGE_KEY) ?? fallback);
}

export function rememberLanguage(code) {
  localStorage.setItem(LANGUAGE_KEY, normalize(code));
}

export function t(key, params = {}) {
  const text = CATALOG[current][key] ?? CATALOG.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export function formatTime(value, lang) {
  return new Intl.DateTimeFormat(lang, { timeStyle: 'medium' }).format(new Date(value));
}

export function formatDateTime(value, lang) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'short', timeStyle: 'medium' }).format(new Date(value));
}
