// Checking a rendered graph as an image, without OCR: for each label, the SVG is rendered to PNG
// (rsvg-convert, librsvg) twice, with and without that one <text> element; the pixels that
// differ are exactly the label's ink. The label is "visible" when there is ink, and "in its box"
// when all of it lies inside the shape of the graph node the label belongs to. This proves the
// label is drawn (not clipped, not hidden under another shape, not off the canvas) where dot put
// it, deterministically, with no font recognition involved.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";

export interface Png {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel */
  rgba: Uint8Array;
}

/** A minimal PNG decoder: 8-bit RGB/RGBA, non-interlaced (what rsvg-convert writes). */
export function decodePng(buf: Buffer): Png {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error("not a PNG");
  let off = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString("latin1", off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error("only 8-bit non-interlaced PNGs");
      colorType = data[9]!;
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    off += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  if (!bpp) throw new Error(`PNG colour type ${colorType} not supported`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp]! : 0;
      const b = prev[i]!;
      const c = i >= bpp ? prev[i - bpp]! : 0;
      let v = line[i]!;
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = v & 0xff;
    }
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < bpp; k++) out[(y * width + x) * 4 + k] = cur[x * bpp + k]!;
      if (bpp === 3) out[(y * width + x) * 4 + 3] = 255;
    }
    prev = cur;
  }
  return { width, height, rgba: out };
}

export function renderPng(svgFile: string, pngFile: string): Png {
  const r = spawnSync("rsvg-convert", ["-b", "white", "-o", pngFile, svgFile], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`rsvg-convert ${svgFile}: ${r.stderr || r.error?.message}`);
  return decodePng(readFileSync(pngFile));
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Bounding box of the pixels that differ between two renderings (undefined: identical). */
export function diffBox(a: Png, b: Png): { box?: Box; count: number } {
  if (a.width !== b.width || a.height !== b.height) throw new Error("renderings differ in size");
  let count = 0;
  let box: Box | undefined;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const i = (y * a.width + x) * 4;
      if (a.rgba[i] === b.rgba[i] && a.rgba[i + 1] === b.rgba[i + 1] && a.rgba[i + 2] === b.rgba[i + 2]) continue;
      count++;
      box = box ? { x0: Math.min(box.x0, x), y0: Math.min(box.y0, y), x1: Math.max(box.x1, x), y1: Math.max(box.y1, y) } : { x0: x, y0: y, x1: x, y1: y };
    }
  }
  return { box, count };
}

export interface SvgNode {
  /** dot's node name (the <title>) */
  title: string;
  texts: string[];
  /** the shape's bounding box in SVG user units (after the graph's translate) */
  box: Box;
  /** number of outline shapes (2 for a double border) */
  outlines: number;
  /** the <g> element's source */
  src: string;
}

const unescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#45;/g, "-").replace(/&#160;/g, " ").replace(/&amp;/g, "&");

/** The graph nodes of dot's SVG: title, label lines, shape box. */
export function svgNodes(svg: string): SvgNode[] {
  const t = /<g id="graph0" class="graph" transform="[^"]*translate\(([-\d.]+) ([-\d.]+)\)"/.exec(svg);
  const [tx, ty] = t ? [Number(t[1]), Number(t[2])] : [0, 0];
  const out: SvgNode[] = [];
  for (const m of svg.matchAll(/<g id="[^"]+" class="node">([\s\S]*?)<\/g>/g)) {
    const src = m[1]!;
    const title = unescape(/<title>([\s\S]*?)<\/title>/.exec(src)?.[1] ?? "");
    const texts = [...src.matchAll(/<text[^>]*>([\s\S]*?)<\/text>/g)].map((x) => unescape(x[1]!));
    const shapes = [...src.matchAll(/<(?:path|polygon)[^>]*?(?: d| points)="([^"]+)"/g)];
    const nums = shapes.flatMap((s) => [...s[1]!.matchAll(/-?\d+(?:\.\d+)?/g)].map((n) => Number(n[0])));
    const xs = nums.filter((_, i) => i % 2 === 0).map((x) => x + tx);
    const ys = nums.filter((_, i) => i % 2 === 1).map((y) => y + ty);
    out.push({ title, texts, box: { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) }, outlines: shapes.length, src });
  }
  return out;
}

/** The canvas size in SVG user units (the viewBox). */
export function svgSize(svg: string): { w: number; h: number } {
  const m = /viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"/.exec(svg)!;
  return { w: Number(m[1]), h: Number(m[2]) };
}

export interface LabelCheck {
  label: string;
  node: string;
  ink: number;
  inside: boolean;
  box?: Box;
}

/**
 * For every graph node whose first label line is in `labels`: render without that <text> and
 * compare. Returns one result per label occurrence.
 */
export function checkLabels(svgFile: string, labels: string[], work: string): LabelCheck[] {
  const svg = readFileSync(svgFile, "utf8");
  const full = renderPng(svgFile, join(work, "full.png"));
  const { w } = svgSize(svg);
  const scale = full.width / w;
  const out: LabelCheck[] = [];
  let n = 0;
  for (const node of svgNodes(svg)) {
    if (!labels.includes(node.texts[0] ?? "")) continue;
    const firstText = /<text[^>]*>[\s\S]*?<\/text>/.exec(node.src)![0];
    const without = svg.replace(node.src, node.src.replace(firstText, ""));
    const f = join(work, `without-${n++}.svg`);
    writeFileSync(f, without);
    const d = diffBox(full, renderPng(f, f.replace(/\.svg$/, ".png")));
    const px = { x0: node.box.x0 * scale - 1, y0: node.box.y0 * scale - 1, x1: node.box.x1 * scale + 1, y1: node.box.y1 * scale + 1 };
    const inside = !!d.box && d.box.x0 >= px.x0 && d.box.y0 >= px.y0 && d.box.x1 <= px.x1 && d.box.y1 <= px.y1;
    out.push({ label: node.texts[0]!, node: node.title, ink: d.count, inside, ...(d.box ? { box: d.box } : {}) });
  }
  return out;
}
