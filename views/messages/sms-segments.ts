// How many SMS segments a text takes (3GPP TS 23.038 / 23.040). One segment holds
// 160 GSM-7 septets, or 70 UCS-2 units as soon as any character is outside GSM-7;
// concatenated messages lose room to the UDH (153 and 67 per segment).

// The GSM 03.38 default alphabet, without the escape code at 0x1B.
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
// Reached through the escape code, so each costs two septets.
const GSM7_EXTENSION = new Set('\f^{}\\[~]|€');

export const SINGLE_SEGMENT_LIMIT = { gsm7: 160, ucs2: 70 } as const;
const MULTIPART_SEGMENT_LIMIT = { gsm7: 153, ucs2: 67 } as const;

export interface SmsBudget {
  encoding: 'gsm7' | 'ucs2';
  /** Septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
  segments: number;
}

function gsm7Septets(text: string): number | undefined {
  let septets = 0;
  for (const char of text) {
    if (GSM7_BASIC.has(char)) septets += 1;
    else if (GSM7_EXTENSION.has(char)) septets += 2;
    else return undefined;
  }
  return septets;
}

export function smsBudget(text: string): SmsBudget {
  const septets = gsm7Septets(text);
  const encoding = septets === undefined ? 'ucs2' : 'gsm7';
  const units = septets ?? text.length;
  const segments = units <= SINGLE_SEGMENT_LIMIT[encoding] ? 1 : Math.ceil(units / MULTIPART_SEGMENT_LIMIT[encoding]);
  return { encoding, units, segments };
}

export function fitsOneSegment(text: string): boolean {
  return smsBudget(text).segments === 1;
}
