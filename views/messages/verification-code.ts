// The one-time code message in every channel and locale. The code stands alone on
// its own line (text) or large and bold (HTML); an SMS fits one segment and ends
// with the origin-bound line `@host #code` so browsers can offer the code for that
// site only (WICG sms-one-time-codes, used by the WebOTP API).
import { html } from '../html.ts';
import type { Locale } from '../../server/i18n/locale.ts';
import type { Channel, OutgoingMessage } from '../../server/delivery/types.ts';
import { emailDocument } from './email.ts';
import { fitsOneSegment } from './sms-segments.ts';

export type CodePurpose = 'register' | 'sign-in' | 'confirm' | 'password-reset' | 'account-deletion';

interface Copy {
  subject: Record<CodePurpose, string>;
  intro: Record<CodePurpose, string>;
  smsLabel: Record<CodePurpose, string>;
  expires(minutes: number): string;
  smsExpires(minutes: number): string;
  onlyOn(host: string): string;
  ignore: string;
}

const russianMinutes = new Intl.PluralRules('ru');

const copy: Record<Locale, Copy> = {
  en: {
    subject: {
      register: 'Your Enot ID sign-up code',
      'sign-in': 'Your Enot ID sign-in code',
      confirm: 'Your Enot ID confirmation code',
      'password-reset': 'Your Enot ID password reset code',
      'account-deletion': 'Your code to delete your Enot ID account',
    },
    intro: {
      register: 'Enter this code to finish creating your Enot ID account:',
      'sign-in': 'Enter this code to sign in to Enot ID:',
      confirm: 'Enter this code to confirm your address for Enot ID:',
      'password-reset': 'Enter this code to set a new Enot ID password:',
      'account-deletion': 'Enter this code to delete your Enot ID account for good. If you did not ask to delete it, do not enter it anywhere:',
    },
    // Plain ASCII only: one character outside GSM-7 would halve the SMS budget.
    smsLabel: {
      register: 'Enot ID sign-up code',
      'sign-in': 'Enot ID sign-in code',
      confirm: 'Enot ID confirmation code',
      'password-reset': 'Enot ID password reset code',
      'account-deletion': 'Enot ID account deletion code',
    },
    expires: (m) => `The code expires in ${m} ${m === 1 ? 'minute' : 'minutes'}.`,
    smsExpires: (m) => `Valid ${m} min. Do not share it.`,
    onlyOn: (host) => `Enter it only on ${host} and never share it with anyone.`,
    ignore: 'If you did not ask for this code, ignore this message.',
  },
  ru: {
    subject: {
      register: 'Код для регистрации в Enot ID',
      'sign-in': 'Код для входа в Enot ID',
      confirm: 'Код подтверждения Enot ID',
      'password-reset': 'Код для сброса пароля Enot ID',
      'account-deletion': 'Код для удаления аккаунта Enot ID',
    },
    intro: {
      register: 'Введите этот код, чтобы завершить регистрацию в Enot ID:',
      'sign-in': 'Введите этот код, чтобы войти в Enot ID:',
      confirm: 'Введите этот код, чтобы подтвердить адрес в Enot ID:',
      'password-reset': 'Введите этот код, чтобы задать новый пароль Enot ID:',
      'account-deletion': 'Введите этот код, чтобы навсегда удалить аккаунт Enot ID. Если вы не просили его удалить, нигде не вводите код:',
    },
    // Short: Cyrillic makes the SMS UCS-2, 70 characters in all.
    smsLabel: {
      register: 'Регистрация в Enot ID',
      'sign-in': 'Вход в Enot ID',
      confirm: 'Подтверждение Enot ID',
      'password-reset': 'Сброс пароля Enot ID',
      'account-deletion': 'Удаление Enot ID',
    },
    expires: (m) => {
      const form = russianMinutes.select(m);
      return `Код действует ${m} ${form === 'one' ? 'минуту' : form === 'few' ? 'минуты' : 'минут'}.`;
    },
    smsExpires: (m) => `Действует ${m} мин.`,
    onlyOn: (host) => `Вводите его только на ${host} и никому не сообщайте.`,
    ignore: 'Если вы не запрашивали код, просто проигнорируйте это письмо.',
  },
};

/** The bare host name: the origin-bound line takes no scheme, port or path. */
export function originHost(host: string): string {
  return new URL(host.includes('://') ? host : `https://${host}`).hostname;
}

/** The richest wording that still fits one segment; the origin-bound line is never dropped. */
export function smsText(input: { code: string; purpose: CodePurpose; locale: Locale; host: string; minutes: number }): string {
  const words = copy[input.locale];
  const originLine = `@${originHost(input.host)} #${input.code}`;
  const labelled = `${words.smsLabel[input.purpose]}: ${input.code}`;
  const candidates = [
    [labelled, words.smsExpires(input.minutes), originLine],
    [labelled, originLine],
    [input.code, originLine],
  ].map((lines) => lines.join('\n'));
  return candidates.find(fitsOneSegment) ?? originLine;
}

function emailMessage(to: string, code: string, purpose: CodePurpose, locale: Locale, host: string, minutes: number): OutgoingMessage {
  const words = copy[locale];
  const subject = words.subject[purpose];
  const shownHost = originHost(host);
  const text = [words.intro[purpose], '', `    ${code}`, '', words.expires(minutes), words.onlyOn(shownHost), '', words.ignore, ''].join('\n');
  const body = html`<p style="margin:0 0 16px">${words.intro[purpose]}</p>
<p style="margin:0 0 16px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:32px;font-weight:700;letter-spacing:0.15em">${code}</p>
<p style="margin:0 0 16px">${words.expires(minutes)}</p>
<p style="margin:0 0 16px">${words.onlyOn(shownHost)}</p>
<p style="margin:0;color:#666666;font-size:14px">${words.ignore}</p>`;
  return { channel: 'email', to, subject, text, html: emailDocument(locale, subject, body) };
}

export function verificationCodeMessage(input: {
  channel: Channel;
  to: string;
  code: string;
  purpose: CodePurpose;
  locale: Locale;
  host: string;
  minutes: number;
}): OutgoingMessage {
  if (input.channel === 'sms') return { channel: 'sms', to: input.to, text: smsText(input) };
  return emailMessage(input.to, input.code, input.purpose, input.locale, input.host, input.minutes);
}
