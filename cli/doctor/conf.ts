// Parsers for the brace-structured configuration files `tsstor doctor` reads, each following the
// owning tool's own rules, into one tree of Nodes so the readers only walk it:
//  - drbd.conf(5): statements end with ";", sections are `keyword [args] { ... }`, values may be
//    "quoted", `#` starts a comment. `drbdadm dump` output is the same grammar.
//  - lvm.conf(5): `key = value` (value a string, number or [ list ]) and `name { ... }`, tokens
//    free of line breaks (a section may sit on one line).
//  - corosync.conf(5): lib/cluster/corosync.ts (the agents' parser too).
//  - multipath.conf(5): line by line as libmultipath's parser reads it, including what it ignores.

import { lvmTokens, type LvmTok } from "../../lib/lvm/conf.js";
import { ConfError, type Node } from "../../lib/system/conf-tree.js";

// the tree and its walkers live in lib/ (the agents parse corosync.conf into it too)
export { ConfError, sections, settings, value, type Node } from "../../lib/system/conf-tree.js";

type Tok = { t: "word" | "{" | "}" | ";"; v: string; line: number };

/** DRBD tokens: words, "strings" (backslash escapes), braces, semicolons; # comments. */
function drbdTokens(text: string): Tok[] {
  const out: Tok[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "{" || c === "}" || c === ";") {
      out.push({ t: c, v: c, line });
      i++;
    } else if (c === '"') {
      let v = "";
      const start = line;
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        if (text[i] === "\n") line++;
        v += text[i];
        i++;
      }
      if (i >= text.length) throw new ConfError(`line ${start}: unterminated string`);
      i++;
      out.push({ t: "word", v, line: start });
    } else {
      let v = "";
      while (i < text.length && !/[\s{};"#]/.test(text[i]!)) v += text[i++];
      out.push({ t: "word", v, line });
    }
  }
  return out;
}

/** Parse drbd.conf syntax into a tree. */
export function parseDrbdSyntax(text: string): Node[] {
  const toks = drbdTokens(text);
  let i = 0;
  const block = (top: boolean): Node[] => {
    const nodes: Node[] = [];
    let words: string[] = [];
    let line = 0;
    while (i < toks.length) {
      const k = toks[i++]!;
      if (k.t === "word") {
        if (!words.length) line = k.line;
        words.push(k.v);
      } else if (k.t === ";") {
        if (words.length) nodes.push({ words, line });
        words = [];
      } else if (k.t === "{") {
        if (!words.length) throw new ConfError(`line ${k.line}: "{" without a section name`);
        const n: Node = { words, line, children: [] };
        words = [];
        n.children = block(false);
        nodes.push(n);
      } else {
        if (top) throw new ConfError(`line ${k.line}: unbalanced "}"`);
        if (words.length) throw new ConfError(`line ${line}: "${words.join(" ")}" is missing its ";"`);
        return nodes;
      }
    }
    if (!top) throw new ConfError("unexpected end of file: a section is not closed");
    if (words.length) throw new ConfError(`line ${line}: "${words.join(" ")}" is missing its ";"`);
    return nodes;
  };
  return block(true);
}

// ---- lvm.conf(5): a real token grammar (sections and settings may share a line) ----
// The tokens are lib/lvm/conf.ts's (the agents' reader); this parser builds doctor's tree from them.

/** Parse lvm.conf/lvmlocal.conf syntax: a setting becomes words [key, ...values]. */
export function parseLvmSyntax(text: string): Node[] {
  const { toks, unterminated } = lvmTokens(text);
  if (unterminated !== undefined) throw new ConfError(`line ${unterminated}: unterminated string`);
  let i = 0;
  const expect = (t: LvmTok["t"]): LvmTok => {
    const k = toks[i++];
    if (!k || k.t !== t) throw new ConfError(`line ${k?.line ?? "end"}: expected "${t}"${k ? `, found "${k.v}"` : ""}`);
    return k;
  };
  const scalar = (): string => {
    const k = toks[i++];
    if (!k || !["str", "num", "word"].includes(k.t)) throw new ConfError(`line ${k?.line ?? "end"}: expected a value`);
    return k.v;
  };
  const block = (top: boolean): Node[] => {
    const nodes: Node[] = [];
    while (i < toks.length) {
      const k = toks[i]!;
      if (k.t === "}") {
        if (top) throw new ConfError(`line ${k.line}: unbalanced "}"`);
        i++;
        return nodes;
      }
      const key = expect("word");
      const next = toks[i];
      if (next?.t === "{") {
        i++;
        nodes.push({ words: [key.v], children: block(false), line: key.line });
      } else {
        expect("=");
        const vals: string[] = [];
        if (toks[i]?.t === "[") {
          i++;
          while (toks[i] && toks[i]!.t !== "]") {
            vals.push(scalar());
            if (toks[i]?.t === ",") i++;
          }
          expect("]");
        } else vals.push(scalar());
        nodes.push({ words: [key.v, ...vals], line: key.line });
      }
    }
    if (!top) throw new ConfError("unexpected end of file: a section is not closed");
    return nodes;
  };
  return block(true);
}

// ---- multipath.conf(5): parsed the way multipath-tools' own parser (libmultipath/parser.c) does ----

/** Keywords that open a sub-level in multipath.conf. */
const MP_SECTIONS = new Set(["defaults", "blacklist", "blacklist_exceptions", "devices", "device", "multipaths", "multipath", "overrides"]);

/**
 * Tokens of one multipath.conf line as alloc_strvec() makes them: "{" and "}" are tokens, a quoted
 * string is the tokens '"', its content, '"'; "#" or "!" outside quotes ends the line.
 */
export function multipathLineTokens(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  let inStr = false;
  while (i < line.length && /\s/.test(line[i]!)) i++;
  if (i >= line.length || line[i] === "!" || line[i] === "#") return out;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '"') {
      out.push('"');
      inStr = !inStr;
      i++;
    } else if (!inStr && (c === "{" || c === "}")) {
      out.push(c);
      i++;
    } else {
      let v = "";
      while (i < line.length && line[i] !== '"' && (inStr || (!/\s/.test(line[i]!) && !"!#{}".includes(line[i]!)))) v += line[i++];
      out.push(v);
    }
    while (!inStr && i < line.length && /\s/.test(line[i]!)) i++;
    if (!inStr && (line[i] === "!" || line[i] === "#")) break;
  }
  return out;
}

/** A value as multipath's set_value() reads it: the word after the key, or the quoted words joined. */
function mpValue(toks: string[]): string | undefined {
  if (toks[1] === undefined) return undefined;
  if (toks[1] !== '"') return toks[1];
  const words: string[] = [];
  for (let i = 2; i < toks.length && toks[i] !== '"'; i++) if (toks[i]) words.push(toks[i]!);
  return words.join(" ");
}

export interface MultipathSyntax {
  nodes: Node[];
  /** lines whose extra data multipath ignores, e.g. `blacklist { devnode "x" }` on one line */
  ignored: Array<{ line: number; text: string; ignored: string }>;
}

export function parseMultipathSyntax(text: string): MultipathSyntax {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  const ignored: MultipathSyntax["ignored"] = [];
  text.split("\n").forEach((raw, n) => {
    const toks = multipathLineTokens(raw);
    if (!toks.length) return;
    const line = n + 1;
    const first = toks[0]!;
    if (first === "}") {
      if (toks.length > 1) ignored.push({ line, text: raw.trim(), ignored: raw.slice(raw.indexOf("}") + 1).trim() });
      if (stack.length > 1) stack.pop();
      return;
    }
    if (first === "{") return; // multipath: "invalid keyword '{'", the line is skipped
    if (MP_SECTIONS.has(first)) {
      // the rest of the line after "name {" is ignored by multipath: the section continues below
      if (toks.length > 2) ignored.push({ line, text: raw.trim(), ignored: raw.slice(raw.indexOf("{") + 1).trim() });
      const sec: Node = { words: [first], children: [], line };
      stack[stack.length - 1]!.push(sec);
      stack.push(sec.children!);
      return;
    }
    const v = mpValue(toks);
    stack[stack.length - 1]!.push({ words: v === undefined ? [first] : [first, v], line });
  });
  return { nodes: root, ignored };
}
