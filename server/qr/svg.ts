// One way to draw a link as a QR image, for the sign-in page and the device flow.
import QRCode from 'qrcode';

/**
 * An SVG QR code of `link`. Encoded as one byte-mode segment: the library's own
 * segmentation (a shortest-path search over mixed modes) costs a third of the
 * drawing time and saves nothing for a URL. Level M survives a screen's glare.
 */
export function qrSvg(link: string): Promise<string> {
  return QRCode.toString([{ data: Buffer.from(link, 'utf8'), mode: 'byte' }], { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
}
