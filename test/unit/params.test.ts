import t from "tap";
import { decl } from "../fixtures/TestAgent.js";
import { formatErrors, parseParams } from "../../lib/ocf/params.js";

t.test("defaults, types, given", async (t) => {
  const r = parseParams(decl, { name: "x" });
  t.same(r.errors, []);
  t.equal(r.values.count, 5);
  t.equal(r.values.fast, false);
  t.equal(r.values.mode, "a");
  t.equal(r.values.password, "");
  t.same([...r.given], ["name"]);
  const r2 = parseParams(decl, { name: "x", count: " 7 ", fast: "YES", mode: "b", extra: "1" });
  t.equal(r2.values.count, 7);
  t.equal(r2.values.fast, true);
  t.same(r2.unknown, ["extra"]);
  t.equal(parseParams(decl, { name: "x", fast: "" }).values.fast, false, "empty means default");
});

t.test("errors name the parameter and the value", async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{}, /parameter name is required/],
    [{ name: "" }, /parameter name is required/],
    [{ name: "x", count: "abc" }, /parameter count must be an integer, got "abc"/],
    [{ name: "x", count: "5.5" }, /must be an integer/],
    [{ name: "x", count: "101" }, /parameter count must be <= 100, got 101/],
    [{ name: "x", count: "-1" }, /parameter count must be >= 0/],
    [{ name: "x", count: "99999999999999999999" }, /out of range/],
    [{ name: "x", fast: "maybe" }, /parameter fast must be a boolean/],
    [{ name: "x", mode: "z" }, /parameter mode must be one of a, b, c; got "z"/],
    [{ name: "x", mode: "A" }, /must be one of/],
  ];
  for (const [env, re] of cases) {
    const r = parseParams(decl, env);
    t.match(formatErrors(r.errors), re, JSON.stringify(env));
  }
  const long = parseParams(decl, { name: "x", count: "9".repeat(70000) });
  t.ok(formatErrors(long.errors).length < 200, "long values are shortened in reasons");
});

t.test("a validator that throws refuses the value with a reason naming the parameter, never crashes", async (t) => {
  const d = {
    ...decl,
    params: { portal: { type: "string" as const, shortdesc: "p", longdesc: "p", validate: (v: string): string | undefined => (/^(.*)$/.exec(v)![1]!.length ? undefined : "empty") } },
  };
  const r = parseParams(d, { portal: "x\ny" });
  t.match(formatErrors(r.errors), /^parameter portal could not be checked \(internal error: /);
  t.same(parseParams(d, { portal: "ok" }).errors, []);
});
