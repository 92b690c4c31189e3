// Security notices (issue 13 §2): something security-relevant happened to the
// account. Each says what happened, when, from where (IP and an approximate
// device, when a person's request caused it) and what to do if it was not them.
// Never a code or a link that signs in: the notice may reach whoever took the account.
// Email or phone added or changed have their own wording (./identifier-changed.ts).
import { html } from '../html.ts';
import type { Locale } from '../../server/i18n/locale.ts';
import type { Channel, OutgoingMessage } from '../../server/delivery/types.ts';
import { emailDocument } from './email.ts';
import { identifierChangedMessage, utc } from './identifier-changed.ts';

export type NoticeEvent =
  | 'sign_in.new_device'
  | 'password.set'
  | 'password.changed'
  | 'password.removed'
  | 'identifier.added'
  | 'identifier.changed'
  | 'identifier.removed'
  | 'account.blocked'
  | 'account.unblocked'
  | 'account.deleted';

/** What the notice is built from; stored in the queued job, so plain JSON. */
export interface NoticeInput {
  event: NoticeEvent;
  channel: Channel;
  to: string;
  locale: Locale;
  /** ISO time of the event. */
  at: string;
  /** The request's address; none for an administrator's action. */
  ip: string | null;
  /** "Chrome on Windows" (server/qr/user-agent.ts), when a person's browser caused it. */
  device: string | null;
  /** Identifier events: which kind, and the value masked (maskIdentifier). */
  kind?: 'email' | 'phone';
  masked?: string;
}

type Plain = Exclude<NoticeEvent, 'identifier.added' | 'identifier.changed'>;

interface Copy {
  /** A function where the subject names what changed (which kind of identifier). */
  subject: Record<Plain, string | ((input: NoticeInput) => string)>;
  what: Record<Plain, (input: NoticeInput) => string>;
  sms: Record<Plain, (input: NoticeInput) => string>;
  when(time: string): string;
  from(ip: string, device: string | null): string;
  byAdmin: string;
  /** After an SMS's "what", when an administrator did it and the wording does not say so already. */
  smsByAdmin: string;
  wasYou: string;
  notYou: Record<'takeover' | 'admin' | 'deleted', string>;
  smsNotYou: Record<'takeover' | 'admin' | 'deleted', string>;
  kind: Record<'email' | 'phone', string>;
}

const copy: Record<Locale, Copy> = {
  en: {
    subject: {
      'sign_in.new_device': 'New sign-in to your Enot ID account',
      'password.set': 'A password was set for your Enot ID account',
      'password.changed': 'Your Enot ID password was changed',
      'password.removed': 'Your Enot ID password was removed',
      'identifier.removed': (i) => `${i.kind === 'phone' ? 'A phone number' : 'An email address'} was removed from your Enot ID account`,
      'account.blocked': 'Your Enot ID account was blocked',
      'account.unblocked': 'Your Enot ID account was unblocked',
      'account.deleted': 'Your Enot ID account was deleted',
    },
    what: {
      'sign_in.new_device': () => 'Someone signed in to your Enot ID account from a device or browser it was not used on before.',
      'password.set': () => 'A password was set for your Enot ID account.',
      'password.changed': () => 'The password of your Enot ID account was changed.',
      'password.removed': () => 'The password of your Enot ID account was removed; it now signs in with one-time codes only.',
      'identifier.removed': (i) => `The ${copy.en.kind[i.kind ?? 'email']} ${i.masked ?? ''} was removed from your Enot ID account.`,
      'account.blocked': () => 'Your Enot ID account was blocked by an administrator: it cannot sign in, and its sessions were ended.',
      'account.unblocked': () => 'Your Enot ID account was unblocked by an administrator: it can sign in again.',
      'account.deleted': () => 'Your Enot ID account was deleted, with its sessions and everything it held.',
    },
    sms: {
      'sign_in.new_device': (i) => `Enot ID: new sign-in${i.device ? ` from ${i.device}` : ''}`,
      'password.set': () => 'Enot ID: a password was set',
      'password.changed': () => 'Enot ID: your password was changed',
      'password.removed': () => 'Enot ID: your password was removed',
      'identifier.removed': (i) => `Enot ID: ${copy.en.kind[i.kind ?? 'email']} ${i.masked ?? ''} removed`,
      'account.blocked': () => 'Enot ID: your account was blocked by an administrator',
      'account.unblocked': () => 'Enot ID: your account was unblocked',
      'account.deleted': () => 'Enot ID: your account was deleted',
    },
    when: (time) => `When: ${time}.`,
    from: (ip, device) => `From IP address ${ip}${device ? `, ${device}` : ''}.`,
    byAdmin: 'By an administrator of the service.',
    smsByAdmin: ' by an administrator',
    wasYou: 'If this was you, there is nothing to do.',
    notYou: {
      takeover:
        'If it was not you, someone may be using your account: reset your password with "Forgot your password?" on the sign-in page, and contact the service that uses Enot ID at once. Nobody from the service will ask you for a code.',
      admin: 'If you do not know why, contact the service that uses Enot ID. Nobody from the service will ask you for a code.',
      deleted: 'If it was not you, contact the service that uses Enot ID at once. Nobody from the service will ask you for a code.',
    },
    smsNotYou: { takeover: '. Not you? Reset your password.', admin: '. Questions? Contact the service.', deleted: '. Not you? Contact the service.' },
    kind: { email: 'email address', phone: 'phone number' },
  },
  ru: {
    subject: {
      'sign_in.new_device': 'Новый вход в аккаунт Enot ID',
      'password.set': 'Для аккаунта Enot ID задан пароль',
      'password.changed': 'Пароль аккаунта Enot ID изменён',
      'password.removed': 'Пароль аккаунта Enot ID удалён',
      'identifier.removed': (i) => `Из аккаунта Enot ID удалён ${i.kind === 'phone' ? 'номер телефона' : 'адрес почты'}`,
      'account.blocked': 'Аккаунт Enot ID заблокирован',
      'account.unblocked': 'Аккаунт Enot ID разблокирован',
      'account.deleted': 'Аккаунт Enot ID удалён',
    },
    what: {
      'sign_in.new_device': () => 'В ваш аккаунт Enot ID вошли с устройства или браузера, с которого раньше не входили.',
      'password.set': () => 'Для вашего аккаунта Enot ID задан пароль.',
      'password.changed': () => 'Пароль вашего аккаунта Enot ID изменён.',
      'password.removed': () => 'Пароль вашего аккаунта Enot ID удалён: теперь вход только по одноразовым кодам.',
      'identifier.removed': (i) => `Из вашего аккаунта Enot ID удалён ${copy.ru.kind[i.kind ?? 'email']} ${i.masked ?? ''}.`,
      'account.blocked': () => 'Администратор заблокировал ваш аккаунт Enot ID: войти в него нельзя, его сеансы завершены.',
      'account.unblocked': () => 'Администратор разблокировал ваш аккаунт Enot ID: в него снова можно войти.',
      'account.deleted': () => 'Ваш аккаунт Enot ID удалён вместе с сеансами и всем, что в нём было.',
    },
    sms: {
      'sign_in.new_device': (i) => `Enot ID: новый вход${i.device ? ` (${i.device})` : ''}`,
      'password.set': () => 'Enot ID: задан пароль',
      'password.changed': () => 'Enot ID: пароль изменён',
      'password.removed': () => 'Enot ID: пароль удалён',
      'identifier.removed': (i) => `Enot ID: удалён ${copy.ru.kind[i.kind ?? 'email']} ${i.masked ?? ''}`,
      'account.blocked': () => 'Enot ID: аккаунт заблокирован администратором',
      'account.unblocked': () => 'Enot ID: аккаунт разблокирован',
      'account.deleted': () => 'Enot ID: аккаунт удалён',
    },
    when: (time) => `Когда: ${time}.`,
    from: (ip, device) => `С IP-адреса ${ip}${device ? `, ${device}` : ''}.`,
    byAdmin: 'Это сделал администратор службы.',
    smsByAdmin: ' администратором',
    wasYou: 'Если это были вы, ничего делать не нужно.',
    notYou: {
      takeover:
        'Если это были не вы, вашим аккаунтом может пользоваться посторонний: сбросьте пароль («Забыли пароль?» на странице входа) и сразу свяжитесь со службой, которая использует Enot ID. Никто из службы не попросит у вас код.',
      admin: 'Если вы не знаете почему, свяжитесь со службой, которая использует Enot ID. Никто из службы не попросит у вас код.',
      deleted: 'Если это были не вы, сразу свяжитесь со службой, которая использует Enot ID. Никто из службы не попросит у вас код.',
    },
    smsNotYou: { takeover: '. Не вы? Сбросьте пароль.', admin: '. Вопросы? Свяжитесь со службой.', deleted: '. Не вы? Свяжитесь со службой.' },
    kind: { email: 'адрес почты', phone: 'номер телефона' },
  },
};

const ADMIN_EVENTS: ReadonlySet<NoticeEvent> = new Set(['account.blocked', 'account.unblocked']);

/** `byAdmin`: made through the admin API (no request of the person's, so no ip). */
function advice(event: Plain, byAdmin: boolean): 'takeover' | 'admin' | 'deleted' {
  if (event === 'account.deleted') return 'deleted';
  return byAdmin ? 'admin' : 'takeover';
}

export function securityNoticeMessage(input: NoticeInput): OutgoingMessage {
  if (input.event === 'identifier.added' || input.event === 'identifier.changed') {
    const kind = input.kind ?? 'email';
    return identifierChangedMessage({
      channel: input.channel, to: input.to, change: `${kind}-${input.event === 'identifier.added' ? 'added' : 'changed'}`,
      masked: input.masked ?? '', at: new Date(input.at), ip: input.ip, locale: input.locale, device: input.device,
    });
  }
  const event = input.event;
  const words = copy[input.locale];
  const byAdmin = ADMIN_EVENTS.has(event) || !input.ip;
  const where = byAdmin || !input.ip ? words.byAdmin : words.from(input.ip, input.device);
  if (input.channel === 'sms') {
    const ip = !byAdmin && input.ip ? `, IP ${input.ip}` : byAdmin && !ADMIN_EVENTS.has(event) && event !== 'account.deleted' ? words.smsByAdmin : '';
    return { channel: 'sms', to: input.to, text: words.sms[event](input) + ip + words.smsNotYou[advice(event, byAdmin)] };
  }
  const wording = words.subject[event];
  const subject = typeof wording === 'function' ? wording(input) : wording;
  const what = words.what[event](input);
  const when = `${words.when(utc(new Date(input.at)))} ${where}`;
  const notYou = words.notYou[advice(event, byAdmin)];
  const text = [what, when, '', words.wasYou, '', notYou, ''].join('\n');
  const body = html`<p style="margin:0 0 16px">${what}</p>
<p style="margin:0 0 16px">${when}</p>
<p style="margin:0 0 16px">${words.wasYou}</p>
<p style="margin:0">${notYou}</p>`;
  return { channel: 'email', to: input.to, subject, text, html: emailDocument(input.locale, subject, body) };
}
