// What a scope lets an app do, in words a person understands, in English and
// Russian (the consent page). OpenID Connect scopes (OIDC Core §5.4, §11) and
// Enot ID's own APIs have their own words; any other API scope is shown as its
// name, with the name of its API when that is known.
import type { Locale } from '../server/i18n/locale.ts';

const OIDC_WORDS: Record<Locale, Record<string, string>> = {
  en: {
    openid: 'Know who you are: your account identifier',
    email: 'See your email address and whether it is confirmed',
    phone: 'See your phone number and whether it is confirmed',
    roles: 'See your roles, which decide what you may do',
    offline_access: 'Keep access while you are not using it, until you sign out or the access expires',
  },
  ru: {
    openid: 'Узнать, кто вы: идентификатор вашего аккаунта',
    email: 'Видеть ваш адрес почты и подтверждён ли он',
    phone: 'Видеть ваш номер телефона и подтверждён ли он',
    roles: 'Видеть ваши роли: они определяют, что вам можно делать',
    offline_access: 'Сохранять доступ, пока вы не пользуетесь приложением, — до выхода или окончания срока доступа',
  },
};

/** Scopes of Enot ID's own APIs (ISSUER/api, ISSUER/admin). */
const OWN_API_WORDS: Record<Locale, Record<string, string>> = {
  en: {
    'qr-login': 'Approve sign-ins on other devices by QR code',
    admin: 'Manage this Enot ID as an administrator',
  },
  ru: {
    'qr-login': 'Подтверждать вход на других устройствах по QR-коду',
    admin: 'Управлять этим Enot ID как администратор',
  },
};

const API_SCOPE: Record<Locale, (scope: string, api: string) => string> = {
  en: (scope, api) => `${scope} at ${api}`,
  ru: (scope, api) => `${scope} в ${api}`,
};

/** The API (RFC 8707 resource) a scope belongs to: its name ('' when it has none), and whether it is Enot ID's own. */
export interface ScopeApi {
  name: string;
  own: boolean;
}

const lookUp = (table: Record<string, string>, scope: string) => (Object.hasOwn(table, scope) ? table[scope] : undefined);

/** The words for `scope` in `locale`: an OpenID Connect scope without `api`, else a scope of that API. */
export function scopeWords(scope: string, locale: Locale, api?: ScopeApi): string {
  if (!api) return lookUp(OIDC_WORDS[locale], scope) ?? scope;
  const own = api.own ? lookUp(OWN_API_WORDS[locale], scope) : undefined;
  if (own) return own;
  return api.name ? API_SCOPE[locale](scope, api.name) : scope;
}
