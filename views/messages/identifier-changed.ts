// Tells a person that an email or phone of their account was added or changed
// (OWASP ASVS V2.2.3: notify after an update to authentication details). It
// goes to the replaced value and to the account's other confirmed one, so the
// holder learns of a takeover. It says what changed (the new value masked),
// when and from which IP (or that an administrator did it), and what to do; it never carries a code or a link
// that signs in, since it may reach whoever took the account.
import { html } from '../html.ts';
import type { Locale } from '../../server/i18n/locale.ts';
import type { Channel, OutgoingMessage } from '../../server/delivery/types.ts';
import { emailDocument } from './email.ts';

export type IdentifierChange = 'email-changed' | 'phone-changed' | 'email-added' | 'phone-added';

interface Copy {
  subject: Record<IdentifierChange, string>;
  what: Record<IdentifierChange, (masked: string) => string>;
  when(time: string, ip: string): string;
  /** A change made through the admin API: no IP of the person's to show. */
  whenByAdmin(time: string): string;
  device(device: string): string;
  wasYou: string;
  notYou: string;
  notYouByAdmin: string;
  smsWhat: Record<IdentifierChange, (masked: string) => string>;
  smsAdvice(ip: string): string;
  smsAdviceByAdmin: string;
}

const copy: Record<Locale, Copy> = {
  en: {
    subject: {
      'email-changed': 'Your Enot ID email address was changed',
      'phone-changed': 'Your Enot ID phone number was changed',
      'email-added': 'An email address was added to your Enot ID account',
      'phone-added': 'A phone number was added to your Enot ID account',
    },
    what: {
      'email-changed': (m) => `The email address of your Enot ID account was changed to ${m}.`,
      'phone-changed': (m) => `The phone number of your Enot ID account was changed to ${m}.`,
      'email-added': (m) => `The email address ${m} was added to your Enot ID account.`,
      'phone-added': (m) => `The phone number ${m} was added to your Enot ID account.`,
    },
    when: (time, ip) => `When: ${time}. From IP address ${ip}.`,
    whenByAdmin: (time) => `When: ${time}. By an administrator of the service.`,
    device: (device) => ` Device: ${device}.`,
    wasYou: 'If this was you, there is nothing to do.',
    notYou:
      'If it was not you, someone may be using your account: reset your password with "Forgot your password?" on the sign-in page, and contact the service that uses Enot ID at once. Nobody from the service will ask you for a code.',
    notYouByAdmin: 'If you do not know why, contact the service that uses Enot ID. Nobody from the service will ask you for a code.',
    // Short: the masked value's "…" makes the SMS UCS-2 (70 characters a segment).
    smsWhat: {
      'email-changed': (m) => `Enot ID: your email was changed to ${m}`,
      'phone-changed': (m) => `Enot ID: your phone was changed to ${m}`,
      'email-added': (m) => `Enot ID: email ${m} was added`,
      'phone-added': (m) => `Enot ID: phone ${m} was added`,
    },
    smsAdvice: (ip) => `, IP ${ip}. Not you? Reset your password.`,
    smsAdviceByAdmin: ' by an administrator. Questions? Contact the service.',
  },
  ru: {
    subject: {
      'email-changed': 'Почта вашего аккаунта Enot ID изменена',
      'phone-changed': 'Телефон вашего аккаунта Enot ID изменён',
      'email-added': 'К аккаунту Enot ID добавлена почта',
      'phone-added': 'К аккаунту Enot ID добавлен телефон',
    },
    what: {
      'email-changed': (m) => `Почта вашего аккаунта Enot ID изменена на ${m}.`,
      'phone-changed': (m) => `Телефон вашего аккаунта Enot ID изменён на ${m}.`,
      'email-added': (m) => `К вашему аккаунту Enot ID добавлена почта ${m}.`,
      'phone-added': (m) => `К вашему аккаунту Enot ID добавлен телефон ${m}.`,
    },
    when: (time, ip) => `Когда: ${time}. С IP-адреса ${ip}.`,
    whenByAdmin: (time) => `Когда: ${time}. Это сделал администратор службы.`,
    device: (device) => ` Устройство: ${device}.`,
    wasYou: 'Если это были вы, ничего делать не нужно.',
    notYou:
      'Если это были не вы, вашим аккаунтом может пользоваться посторонний: сбросьте пароль («Забыли пароль?» на странице входа) и сразу свяжитесь со службой, которая использует Enot ID. Никто из службы не попросит у вас код.',
    notYouByAdmin: 'Если вы не знаете почему, свяжитесь со службой, которая использует Enot ID. Никто из службы не попросит у вас код.',
    smsWhat: {
      'email-changed': (m) => `Enot ID: почта изменена на ${m}`,
      'phone-changed': (m) => `Enot ID: телефон изменён на ${m}`,
      'email-added': (m) => `Enot ID: добавлена почта ${m}`,
      'phone-added': (m) => `Enot ID: добавлен телефон ${m}`,
    },
    smsAdvice: (ip) => `, IP ${ip}. Не вы? Сбросьте пароль.`,
    smsAdviceByAdmin: ' администратором. Вопросы? Свяжитесь со службой.',
  },
};

/** `2026-11-30 08:01 UTC`: one unambiguous form for every reader. */
export function utc(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function identifierChangedMessage(input: {
  channel: Channel;
  to: string;
  change: IdentifierChange;
  /** The new value, masked (maskIdentifier): the notice may reach someone who is not the holder. */
  masked: string;
  at: Date;
  /** The person's request; null: an administrator made the change. */
  ip: string | null;
  locale: Locale;
  /** "Chrome on Windows", when known. */
  device?: string | null;
}): OutgoingMessage {
  const words = copy[input.locale];
  const { ip } = input;
  if (input.channel === 'sms') return { channel: 'sms', to: input.to, text: words.smsWhat[input.change](input.masked) + (ip ? words.smsAdvice(ip) : words.smsAdviceByAdmin) };
  const subject = words.subject[input.change];
  const what = words.what[input.change](input.masked);
  const when = ip ? words.when(utc(input.at), ip) + (input.device ? words.device(input.device) : '') : words.whenByAdmin(utc(input.at));
  const notYou = ip ? words.notYou : words.notYouByAdmin;
  const text = [what, when, '', words.wasYou, '', notYou, ''].join('\n');
  const body = html`<p style="margin:0 0 16px">${what}</p>
<p style="margin:0 0 16px">${when}</p>
<p style="margin:0 0 16px">${words.wasYou}</p>
<p style="margin:0">${notYou}</p>`;
  return { channel: 'email', to: input.to, subject, text, html: emailDocument(input.locale, subject, body) };
}
