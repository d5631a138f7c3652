// lvm.conf / lvmlocal.conf: read settings with their file and line (so validation can say exactly
// what is wrong and where), and change one setting in place when a parameter asks for it.
//
// The format (lvm.conf(5)): nested `section { ... }`, `key = value` where value is an integer,
// float, "string" (backslash escapes) or [ array ] possibly over several lines; `#` comments.
// LVM reads lvm.conf, then lvmlocal.conf on top (the `local` section belongs there).

import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeAtomic } from "../system/state-file.js";

export type ConfValue = number | string | Array<number | string>;

export interface Setting {
  /** "global/use_lvmlockd" */
  path: string;
  value: ConfValue;
  file: string;
  line: number;
}

export interface ParseResult {
  settings: Setting[];
  errors: string[];
}

/** A token of lvm.conf(5); also read by `tsstor doctor` (cli/doctor/conf.ts). */
export interface LvmTok {
  t: "word" | "str" | "num" | "{" | "}" | "[" | "]" | "=" | ",";
  v: string;
  line: number;
}

/** The tokens, and the line of a string left open at the end of the text (if any). */
export function lvmTokens(text: string): { toks: LvmTok[]; unterminated?: number } {
  const toks: LvmTok[] = [];
  let unterminated: number | undefined;
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      // any whitespace (a BOM, a no-break space, a form feed): the word branch below stops at
      // \s, so skipping less here would loop forever on an empty word
      i++;
    } else if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if ("{}[]=,".includes(c)) {
      toks.push({ t: c as LvmTok["t"], v: c, line });
      i++;
    } else if (c === '"') {
      let s = "";
      const start = line;
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        if (text[i] === "\n") line++;
        s += text[i];
        i++;
      }
      if (i >= text.length) unterminated = start;
      i++;
      toks.push({ t: "str", v: s, line: start });
    } else {
      let w = "";
      while (i < text.length && !/[\s{}[\]=,#"]/.test(text[i]!)) w += text[i++];
      toks.push({ t: /^[-+]?\d+(\.\d+)?$/.test(w) ? "num" : "word", v: w, line });
    }
  }
  return { toks, unterminated };
}

export function parseLvmConf(text: string, file: string): ParseResult {
  const errors: string[] = [];
  const { toks, unterminated } = lvmTokens(text);
  if (unterminated !== undefined) errors.push(`${file}:${unterminated}: unterminated string`);
  const settings: Setting[] = [];
  const stack: string[] = [];
  let i = 0;
  const value = (): ConfValue | undefined => {
    const tk = toks[i];
    if (!tk) return undefined;
    if (tk.t === "num") {
      i++;
      return Number(tk.v);
    }
    if (tk.t === "str" || tk.t === "word") {
      i++;
      return tk.v;
    }
    if (tk.t === "[") {
      i++;
      const arr: Array<number | string> = [];
      while (i < toks.length && toks[i]!.t !== "]") {
        const e = toks[i]!;
        if (e.t === ",") {
          i++;
          continue;
        }
        if (e.t === "num") arr.push(Number(e.v));
        else if (e.t === "str" || e.t === "word") arr.push(e.v);
        else {
          errors.push(`${file}:${e.line}: unexpected ${e.v} in array`);
          return arr;
        }
        i++;
      }
      i++;
      return arr;
    }
    return undefined;
  };
  while (i < toks.length) {
    const tk = toks[i]!;
    if (tk.t === "}") {
      if (!stack.length) errors.push(`${file}:${tk.line}: unbalanced }`);
      stack.pop();
      i++;
      continue;
    }
    if (tk.t !== "word") {
      errors.push(`${file}:${tk.line}: unexpected ${JSON.stringify(tk.v)}`);
      i++;
      continue;
    }
    const next = toks[i + 1];
    if (next?.t === "{") {
      stack.push(tk.v);
      i += 2;
    } else if (next?.t === "=") {
      i += 2;
      const v = value();
      if (v === undefined) errors.push(`${file}:${tk.line}: ${tk.v} has no value`);
      else settings.push({ path: [...stack, tk.v].join("/"), value: v, file, line: tk.line });
    } else {
      errors.push(`${file}:${tk.line}: expected = or { after ${tk.v}`);
      i++;
    }
  }
  if (stack.length) errors.push(`${file}: section ${stack.join("/")} is not closed`);
  return { settings, errors };
}

/** Both files as LVM reads them: lvmlocal.conf wins over lvm.conf, the last assignment wins. */
export class LvmConfig {
  readonly settings: Setting[] = [];
  readonly errors: string[] = [];
  readonly files: string[] = [];
  constructor(readonly dir: string) {
    for (const name of ["lvm.conf", "lvmlocal.conf"]) {
      const file = join(dir, name);
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") this.errors.push(`cannot read ${file}: ${(e as Error).message}`);
        continue;
      }
      this.files.push(file);
      const r = parseLvmConf(text, file);
      this.settings.push(...r.settings);
      this.errors.push(...r.errors);
    }
  }

  get(path: string): Setting | undefined {
    for (let k = this.settings.length - 1; k >= 0; k--) if (this.settings[k]!.path === path) return this.settings[k];
    return undefined;
  }

  int(path: string): number | undefined {
    const s = this.get(path);
    return typeof s?.value === "number" ? s.value : undefined;
  }

  /** "lvm.conf line 12" style location for reasons. */
  static where(s: Setting): string {
    return `${s.file} line ${s.line}`;
  }
}

/**
 * Set `section/key = value` in `file`: rewrite the last uncommented assignment in place, else add
 * it after the section's opening line, else append the section. Returns what changed, or
 * undefined when the file already had that value. Keeps the file's mode.
 */
export function setLvmConf(file: string, section: string, key: string, value: number): string | undefined {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o644;
  const parsed = parseLvmConf(text, file);
  const cur = [...parsed.settings].reverse().find((s) => s.path === `${section}/${key}`);
  const lines = text.split("\n");
  let change: string;
  if (cur) {
    if (cur.value === value) return undefined;
    const idx = cur.line - 1;
    const re = new RegExp(`^(\\s*${key}\\s*=\\s*)[^#\\n]*?(\\s*(#.*)?)$`);
    if (!re.test(lines[idx]!)) return undefined;
    lines[idx] = lines[idx]!.replace(re, `$1${value}$2`);
    change = `${file} line ${cur.line}: ${section}/${key} ${JSON.stringify(cur.value)} -> ${value}`;
  } else {
    const open = lines.findIndex((l) => new RegExp(`^\\s*${section}\\s*\\{`).test(l.replace(/#.*/, "")));
    if (open >= 0 && !/\}/.test(lines[open]!.replace(/#.*/, ""))) {
      lines.splice(open + 1, 0, `\t${key} = ${value}`);
      change = `${file} line ${open + 2}: added ${section}/${key} = ${value}`;
    } else {
      const tail = text === "" || text.endsWith("\n") ? "" : "\n";
      const block = `${tail}${section} {\n\t${key} = ${value}\n}\n`;
      writeAtomic(file, text + block, mode);
      return `${file}: added section ${section} with ${key} = ${value}`;
    }
  }
  writeAtomic(file, lines.join("\n"), mode);
  return change;
}
