// Reads a QR code the way a phone would: from pixels, with jsQR. For SVGs drawn
// by the qrcode library the modules are rasterised here; for screenshots, the
// PNG is decoded with pngjs.
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';

// jsqr is CommonJS: under Node's ESM the default import is the function itself.
const jsQR = jsQRModule as unknown as (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;

const SCALE = 4;

/** Rasterises qrcode's SVG (a stroke path of horizontal runs) to RGBA pixels. */
function rasterise(svg: string): { data: Uint8ClampedArray; width: number; height: number } {
  const size = Number(/viewBox="0 0 (\d+) \d+"/.exec(svg)?.[1]);
  const path = /<path stroke="[^"]+" d="([^"]+)"/.exec(svg)?.[1];
  if (!size || !path) throw new Error('not a qrcode SVG');
  const width = size * SCALE;
  const data = new Uint8ClampedArray(width * width * 4).fill(255);
  let x = 0;
  let y = 0;
  for (const [, command, a, b] of path.matchAll(/([MmHhVv])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?/g)) {
    const n = Number(a);
    if (command === 'M') [x, y] = [n, Number(b)];
    else if (command === 'm') [x, y] = [x + n, y + Number(b)];
    else if (command === 'h') {
      for (let col = x; col < x + n; col++) {
        for (let dy = 0; dy < SCALE; dy++) {
          for (let dx = 0; dx < SCALE; dx++) {
            const offset = ((Math.floor(y) * SCALE + dy) * width + col * SCALE + dx) * 4;
            data[offset] = data[offset + 1] = data[offset + 2] = 0;
          }
        }
      }
      x += n;
    }
  }
  return { data, width, height: width };
}

export function decodeQrSvg(svg: string): string {
  const { data, width, height } = rasterise(svg);
  const found = jsQR(data, width, height);
  if (!found) throw new Error('no QR code found in the SVG');
  return found.data;
}

export function decodeQrPng(png: Buffer): string {
  const image = PNG.sync.read(png);
  const found = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  if (!found) throw new Error('no QR code found in the image');
  return found.data;
}
