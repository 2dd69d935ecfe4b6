// Verifies a dsr-draw/1 record in the reader's own browser (spec/draw-protocol.md):
// plain JavaScript and Web Crypto, no network. Sets #verdict's data-result to "match" or
// "mismatch" and says where the page differs from the recomputation.
(function () {
  "use strict";
  const enc = new TextEncoder();

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function fromHex(s) {
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
    return out;
  }
  async function sha(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }
  // Strings compare by Unicode code point, as Python's sorted() does (not UTF-16 units).
  function cpCmp(a, b) {
    const A = Array.from(a), B = Array.from(b);
    const n = Math.min(A.length, B.length);
    for (let i = 0; i < n; i++) {
      const x = A[i].codePointAt(0), y = B[i].codePointAt(0);
      if (x !== y) return x < y ? -1 : 1;
    }
    return A.length - B.length;
  }
  // Python's json.dumps(ensure_ascii=False) string escapes.
  function pyStr(s) {
    let out = '"';
    for (const ch of s) {
      const c = ch.codePointAt(0);
      if (ch === '"') out += '\\"';
      else if (ch === "\\") out += "\\\\";
      else if (ch === "\n") out += "\\n";
      else if (ch === "\r") out += "\\r";
      else if (ch === "\t") out += "\\t";
      else if (ch === "\b") out += "\\b";
      else if (ch === "\f") out += "\\f";
      else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
      else out += ch;
    }
    return out + '"';
  }
  // canon(): json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":")).
  function canon(v) {
    if (v === null) return "null";
    if (v === true) return "true";
    if (v === false) return "false";
    if (typeof v === "number") return String(v);
    if (typeof v === "string") return pyStr(v);
    if (Array.isArray(v)) return "[" + v.map(canon).join(",") + "]";
    const keys = Object.keys(v).sort(cpCmp);
    return "{" + keys.map((k) => pyStr(k) + ":" + canon(v[k])).join(",") + "}";
  }
  // Without surrogates, UTF-16 order is code-point order and the engine's own compare is
  // exact (and far quicker on a million-row pool); only astral characters need cpCmp.
  const SURROGATE = /[\uD800-\uDFFF]/;
  function plainCmp(a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  function strCmpFor(strings) {
    return strings.some((s) => SURROGATE.test(s)) ? cpCmp : plainCmp;
  }
  function listing(rows) {
    const cmp = strCmpFor(rows.flat());
    const sorted = rows.slice().sort((a, b) => {
      const n = Math.min(a.length, b.length);
      for (let i = 0; i < n; i++) {
        const c = cmp(a[i], b[i]);
        if (c !== 0) return c;
      }
      return a.length - b.length;
    });
    return sorted.map((r) => r.join("\t") + "\n").join("");
  }
  // Python's str.strip() white space, which includes U+3000 and U+0085.
  const WS = "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029" +
             "\\u202f\\u205f\\u3000]+";
  const STRIP = new RegExp("^" + WS + "|" + WS + "$", "g");
  function normalise(s) {
    return s.normalize("NFC").replace(STRIP, "");
  }
  function quota(n, bp) {
    if (n === 0) return 0;
    return Math.min(n, Math.max(1, Math.floor((n * bp + 9999) / 10000)));
  }

  function Stream(seed) {
    this.seed = seed;
  }
  // R(label, j) = H(seed || utf8(label) || 0x00 || j as 8-byte big-endian), big-endian.
  Stream.prototype.R = async function (label, j) {
    const lb = enc.encode(label);
    const buf = new Uint8Array(this.seed.length + lb.length + 9);
    buf.set(this.seed, 0);
    buf.set(lb, this.seed.length);
    buf[this.seed.length + lb.length] = 0;
    new DataView(buf.buffer).setBigUint64(this.seed.length + lb.length + 1, BigInt(j), false);
    return BigInt("0x" + hex(await sha(buf)));
  };
  Stream.prototype.sample = async function (items, k, label) {
    const a = items.slice();
    for (let j = 0; j < k; j++) {
      const r = await this.R(label, j);
      const i = j + Number(r % BigInt(a.length - j));
      const t = a[j]; a[j] = a[i]; a[i] = t;
    }
    return a.slice(0, k);
  };

  class DrawError extends Error {}

  async function pickTeam(stream, eligible, load, count, label) {
    const levels = Array.from(new Set(eligible.map((i) => load.get(i)))).sort((a, b) => a - b);
    const team = [];
    for (const v of levels) {
      if (team.length >= count) break;
      const tier = eligible.filter((i) => load.get(i) === v);
      const short = count - team.length;
      team.push(...(await stream.sample(tier, Math.min(short, tier.length), label + ":" + v)));
    }
    return team;
  }

  async function recompute(rec) {
    const enc8 = (s) => enc.encode(s);
    const digests = {
      pool: hex(await sha(enc8(listing(rec.pool)))),
      inspectors: hex(await sha(enc8(listing(rec.inspectors.map((i) => [i]))))),
      conflicts: hex(await sha(enc8(listing(rec.conflicts)))),
    };
    const commitment = hex(await sha(fromHex(rec.system_entropy)));
    const strata = {};
    for (const s of Object.keys(rec.strata)) strata[s] = { ratio_bp: rec.strata[s].ratio_bp };
    const seedInput = {
      protocol: "dsr-draw/1", pool: digests.pool, inspectors: digests.inspectors,
      conflicts: digests.conflicts, strata: strata, team_size: rec.team_size,
      system_entropy: rec.system_entropy.toLowerCase(),
      witness_entropy: rec.witness_entropy.map(normalise), beacon: rec.beacon,
    };
    // A joint draw (Art. 11) binds its department mapping into the seed (kiosk/draw/lottery.py).
    if (rec.joint !== undefined && rec.joint !== null) seedInput.joint = rec.joint;
    const material = canon(seedInput);
    const seedBytes = await sha(enc8(material));
    const seed = hex(seedBytes);
    const stream = new Stream(seedBytes);
    const by = {};
    for (const [id, s] of rec.pool) {
      if (!(s in rec.strata)) throw new DrawError("检查对象名录中的层级“" + s + "”不在分层设置中。");
      (by[s] = by[s] || []).push(id);
    }
    const selected = [];
    for (const s of Object.keys(rec.strata).sort(cpCmp)) {
      const ids = (by[s] || []).slice();
      ids.sort(strCmpFor(ids));
      const k = quota(ids.length, rec.strata[s].ratio_bp);
      selected.push(...(await stream.sample(ids, k, "target:" + s)));
    }
    const out = { digests, commitment, seed, selected, teams: null, error: null };
    try {
      out.teams = await matchTeams(rec, stream, selected);
    } catch (e) {
      // As kiosk verify: the seed and selection are compared first, then this is the
      // difference (an infeasible team, an invalid amendment).
      if (!(e instanceof DrawError)) throw e;
      out.error = e.message;
    }
    return out;
  }

  async function matchTeams(rec, stream, selected) {
    const staff = Array.from(new Set(rec.inspectors));
    staff.sort(strCmpFor(staff));
    const staffSet = new Set(staff);
    const load = new Map(staff.map((i) => [i, 0]));
    const conflicts = new Map();
    for (const [i, u] of rec.conflicts) {
      if (!conflicts.has(u)) conflicts.set(u, new Set());
      conflicts.get(u).add(i);
    }
    const teams = new Map();
    // Joint tasks (Art. 11, kiosk/draw/joint.py): one inspector of each department first.
    const joint = rec.joint || null;
    const depts = joint ? Array.from(new Set(joint.departments)).sort(cpCmp) : [];
    const deptOf = joint ? joint.inspector_departments : {};
    if (joint && rec.team_size < depts.length) throw new DrawError("联合抽查每组人数不足以每个部门一人。");
    for (const t of selected) {
      const recused = conflicts.get(t) || new Set();
      const eligible = staff.filter((i) => !recused.has(i));
      if (eligible.length < rec.team_size) {
        throw new DrawError("检查对象 " + t + " 回避后可选执法人员不足 " + rec.team_size + " 名。");
      }
      const team = [];
      for (const d of depts) {
        const inDept = eligible.filter((i) => deptOf[i] === d && !team.includes(i));
        if (!inDept.length) throw new DrawError("检查对象 " + t + " 没有 " + d + " 的可选执法人员。");
        team.push(...(await pickTeam(stream, inDept, load, 1, "team:" + t + ":dept:" + d)));
      }
      const rest = eligible.filter((i) => !team.includes(i));
      team.push(...(await pickTeam(stream, rest, load, rec.team_size - team.length, "team:" + t)));
      for (const i of team) load.set(i, load.get(i) + 1);
      teams.set(t, team);
    }
    for (let n = 0; n < rec.amendments.length; n++) {
      const a = rec.amendments[n];
      const team = teams.get(a.target);
      if (!team) throw new DrawError("第" + (n + 1) + "项回避申报无效：" + a.target + " 不是抽中对象。");
      const at = team.indexOf(a.inspector);
      if (at < 0) throw new DrawError("第" + (n + 1) + "项回避申报无效：" + a.inspector + " 不在该检查组中。");
      if (!conflicts.has(a.target)) conflicts.set(a.target, new Set());
      conflicts.get(a.target).add(a.inspector);
      team.splice(at, 1);
      if (staffSet.has(a.inspector)) load.set(a.inspector, load.get(a.inspector) - 1);
      const recused = conflicts.get(a.target);
      let eligible = staff.filter((i) => !recused.has(i) && !team.includes(i));
      const d = deptOf[a.inspector];
      if (joint && depts.includes(d) && !team.some((i) => deptOf[i] === d)) {
        eligible = eligible.filter((i) => deptOf[i] === d);  // the team's only member of d
      }
      if (eligible.length < 1) throw new DrawError("第" + (n + 1) + "项回避申报无法执行：没有可替换的执法人员。");
      const nw = (await pickTeam(stream, eligible, load, 1, "replace:" + n + ":" + a.target))[0];
      load.set(nw, load.get(nw) + 1);
      team.push(nw);
    }
    return selected.map((t) => [t, teams.get(t)]);
  }

  function firstListDiff(recorded, computed, what) {
    for (let k = 0; k < Math.min(recorded.length, computed.length); k++) {
      if (recorded[k] !== computed[k]) {
        return "第" + (k + 1) + "个" + what + "不一致：页面为 " + recorded[k] + "，重算为 " + computed[k] + "。";
      }
    }
    if (recorded.length !== computed.length) {
      return what + "数量不一致：页面为 " + recorded.length + "，重算为 " + computed.length + "。";
    }
    return null;
  }

  // The first difference, in the order kiosk verify checks: digests, commitment, seed,
  // selection, teams; then the values printed in the page's own tables.
  function compare(rec, c) {
    const labels = { pool: "检查对象名录", inspectors: "执法人员名录", conflicts: "回避名录" };
    for (const k of ["pool", "inspectors", "conflicts"]) {
      if (rec.digests && typeof rec.digests[k] === "string" && rec.digests[k].toLowerCase() !== c.digests[k]) {
        return ["digests." + k, labels[k] + "摘要不一致：公示为 " + rec.digests[k] + "，按名录重算为 " + c.digests[k] + "。"];
      }
    }
    if (String(rec.commitment).toLowerCase() !== c.commitment) {
      return ["commitment", "承诺值不一致：公示为 " + rec.commitment + "，重算为 " + c.commitment + "。"];
    }
    if (String(rec.seed).toLowerCase() !== c.seed) {
      return ["seed", "种子不一致：公示为 " + rec.seed + "，重算为 " + c.seed + "。"];
    }
    const sel = firstListDiff(rec.selected, c.selected, "抽中对象");
    if (sel) return ["selected", sel];
    if (c.error) return ["draw", "无法重算本次抽取：" + c.error];
    for (let k = 0; k < Math.min(rec.teams.length, c.teams.length); k++) {
      const [rt, rm] = rec.teams[k], [ct, cm] = c.teams[k];
      if (rt !== ct) return ["teams", "第" + (k + 1) + "个检查组的检查对象不一致：页面为 " + rt + "，重算为 " + ct + "。"];
      if (rm.join("、") !== cm.join("、")) {
        return ["teams", "检查对象 " + ct + " 的检查组不一致：页面为 " + rm.join("、") + "，重算为 " + cm.join("、") + "。"];
      }
    }
    if (rec.teams.length !== c.teams.length) return ["teams", "检查组数量不一致。"];
    // What the page shows must be what was recomputed, not only what is embedded.
    const shown = Array.from(document.querySelectorAll("[data-target-uscc]"), (e) => e.textContent.trim());
    if (shown.length) {
      const d = firstListDiff(shown, c.selected, "公示表中的抽中对象");
      if (d) return ["table", d];
    }
    for (const e of document.querySelectorAll("[data-field]")) {
      const f = e.getAttribute("data-field");
      const want = f.startsWith("digests.") ? c.digests[f.slice(8)] : c[f];
      if (typeof want === "string" && e.textContent.trim().toLowerCase() !== want) {
        return [f, "公示页上的 " + f + " 不一致：页面为 " + e.textContent.trim() + "，重算为 " + want + "。"];
      }
    }
    return null;
  }

  function show(result, where, text) {
    const v = document.getElementById("verdict");
    v.setAttribute("data-result", result);
    if (where) v.setAttribute("data-where", where);
    v.textContent = text;
  }

  async function main() {
    let rec;
    try {
      rec = JSON.parse(document.getElementById("dsr-record").textContent);
      for (const f of ["pool", "inspectors", "conflicts", "strata", "team_size", "system_entropy",
                       "witness_entropy", "beacon", "amendments", "commitment", "seed", "selected", "teams"]) {
        if (!(f in rec)) throw new Error("缺少字段“" + f + "”");
      }
      if (!/^[0-9a-fA-F]{64}$/.test(rec.system_entropy)) throw new Error("系统随机数格式不正确");
    } catch (e) {
      show("mismatch", "record", "不一致：页面中的摇号记录无法读取（" + e.message + "）。");
      return;
    }
    if (!(window.crypto && crypto.subtle)) {
      show("unavailable", "", "此浏览器不能在本页计算 SHA-256（请用 https 或本地文件打开），未能核验。");
      return;
    }
    let c;
    try {
      c = await recompute(rec);
    } catch (e) {
      show("mismatch", "record", "不一致：页面中的摇号记录无法重算（" + e.message + "）。");
      return;
    }
    const diff = compare(rec, c);
    if (diff) {
      show("mismatch", diff[0], "不一致：" + diff[1]);
    } else {
      show("match", "", "核验通过：在本浏览器中按 dsr-draw/1 重算，" + c.selected.length +
           " 个抽中对象与 " + c.teams.length + " 个检查组与公示一致" +
           (rec.joint ? "；联合抽查（" + Array.from(new Set(rec.joint.departments)).sort(cpCmp).join("、") +
            "），每个检查组均含各部门执法人员。" : "。"));
    }
  }
  main();
})();
