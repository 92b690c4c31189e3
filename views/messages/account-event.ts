// Tells a person that their password was set, changed or removed, that an email
// or phone was removed from their account, or that the account was deleted
// (OWASP ASVS V2.2.3: notify after updates to authentication details). It goes
// to every confirmed email and phone the account had before the change, so a
// removed one is told too. What happened, when and from which IP, and what to
// do if it was not them; never a code or a link that signs in.
import { html } from '../html.ts';
import type { Locale } from '../../server/i18n/locale.ts';
import type { Channel, OutgoingMessage } from '../../server/delivery/types.ts';
import { emailDocument } from './email.ts';

export type AccountEvent = 'password-set' | 'password-changed' | 'password-removed' | 'email-removed' | 'phone-removed' | 'account-deleted';

interface Copy {
  subject: Record<AccountEvent, string>;
  what: Record<AccountEvent, string>;
  when(time: string, ip: string): string;
  wasYou: string;
  notYou: Record<'account' | 'deleted', string>;
  sms: Record<AccountEvent, string>;
  smsAdvice(ip: string, deleted: boolean): string;
}

const copy: Record<Locale, Copy> = {
  en: {
    subject: {
      'password-set': 'A password was set for your Enot ID account',
      'password-changed': 'Your Enot ID password was changed',
      'password-removed': 'The password of your Enot ID account was removed',
      'email-removed': 'An email address was removed from your Enot ID account',
      'phone-removed': 'A phone number was removed from your Enot ID account',
      'account-deleted': 'Your Enot ID account was deleted',
    },
    what: {
      'password-set': 'A password was set for your Enot ID account. You can now sign in with it as well as with a code.',
      'password-changed': 'The password of your Enot ID account was changed.',
      'password-removed': 'The password of your Enot ID account was removed. You now sign in with a code to your email or phone.',
      'email-removed': 'The email address was removed from your Enot ID account. It can no longer be used to sign in.',
      'phone-removed': 'The phone number was removed from your Enot ID account. It can no longer be used to sign in.',
      'account-deleted': 'Your Enot ID account was deleted, with its sessions and the access of every app. Nothing of it is kept.',
    },
    when: (time, ip) => `When: ${time}. From IP address ${ip}.`,
    wasYou: 'If this was you, there is nothing to do.',
    notYou: {
      account:
        'If it was not you, someone may be using your account: sign in, reset your password with "Forgot your password?" on the sign-in page, and contact the service that uses Enot ID at once. Nobody from the service will ask you for a code.',
      deleted: 'If it was not you, contact the service that uses Enot ID at once. Nobody from the service will ask you for a code.',
    },
    sms: {
      'password-set': 'Enot ID: a password was set for your account',
      'password-changed': 'Enot ID: your password was changed',
      'password-removed': 'Enot ID: your password was removed',
      'email-removed': 'Enot ID: your email was removed from your account',
      'phone-removed': 'Enot ID: this phone was removed from your account',
      'account-deleted': 'Enot ID: your account was deleted',
    },
    smsAdvice: (ip, deleted) => `, IP ${ip}. Not you? ${deleted ? 'Contact the service.' : 'Reset your password.'}`,
  },
  ru: {
    subject: {
      'password-set': 'Для аккаунта Enot ID задан пароль',
      'password-changed': 'Пароль аккаунта Enot ID изменён',
      'password-removed': 'Пароль аккаунта Enot ID удалён',
      'email-removed': 'Из аккаунта Enot ID удалена почта',
      'phone-removed': 'Из аккаунта Enot ID удалён телефон',
      'account-deleted': 'Ваш аккаунт Enot ID удалён',
    },
    what: {
      'password-set': 'Для вашего аккаунта Enot ID задан пароль. Теперь можно входить и с ним, и по коду.',
      'password-changed': 'Пароль вашего аккаунта Enot ID изменён.',
      'password-removed': 'Пароль вашего аккаунта Enot ID удалён. Теперь вход — по коду на почту или телефон.',
      'email-removed': 'Почта удалена из вашего аккаунта Enot ID. Войти с ней больше нельзя.',
      'phone-removed': 'Номер телефона удалён из вашего аккаунта Enot ID. Войти с ним больше нельзя.',
      'account-deleted': 'Ваш аккаунт Enot ID удалён вместе с сеансами и доступом всех приложений. Ничего из него не сохранено.',
    },
    when: (time, ip) => `Когда: ${time}. С IP-адреса ${ip}.`,
    wasYou: 'Если это были вы, ничего делать не нужно.',
    notYou: {
      account:
        'Если это были не вы, вашим аккаунтом может пользоваться посторонний: сбросьте пароль («Забыли пароль?» на странице входа) и сразу свяжитесь со службой, которая использует Enot ID. Никто из службы не попросит у вас код.',
      deleted: 'Если это были не вы, сразу свяжитесь со службой, которая использует Enot ID. Никто из службы не попросит у вас код.',
    },
    sms: {
      'password-set': 'Enot ID: для аккаунта задан пароль',
      'password-changed': 'Enot ID: пароль изменён',
      'password-removed': 'Enot ID: пароль удалён',
      'email-removed': 'Enot ID: почта удалена из аккаунта',
      'phone-removed': 'Enot ID: этот телефон удалён из аккаунта',
      'account-deleted': 'Enot ID: ваш аккаунт удалён',
    },
    smsAdvice: (ip, deleted) => `, IP ${ip}. Не вы? ${deleted ? 'Свяжитесь со службой.' : 'Сбросьте пароль.'}`,
  },
};

/** `2026-11-30 08:01 UTC`: one unambiguous form for every reader. */
const utc = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function accountEventMessage(input: { channel: Channel; to: string; event: AccountEvent; at: Date; ip: string; locale: Locale }): OutgoingMessage {
  const words = copy[input.locale];
  const deleted = input.event === 'account-deleted';
  if (input.channel === 'sms') return { channel: 'sms', to: input.to, text: words.sms[input.event] + words.smsAdvice(input.ip, deleted) };
  const subject = words.subject[input.event];
  const what = words.what[input.event];
  const when = words.when(utc(input.at), input.ip);
  const notYou = words.notYou[deleted ? 'deleted' : 'account'];
  const text = [what, when, '', words.wasYou, '', notYou, ''].join('\n');
  const body = html`<p style="margin:0 0 16px">${what}</p>
<p style="margin:0 0 16px">${when}</p>
<p style="margin:0 0 16px">${words.wasYou}</p>
<p style="margin:0">${notYou}</p>`;
  return { channel: 'email', to: input.to, subject, text, html: emailDocument(input.locale, subject, body) };
}
