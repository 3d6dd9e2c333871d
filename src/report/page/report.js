// pymem report: draws the data embedded in the page (a JSON script element) as an overview,
// an explorable dominator tree (icicle, and the same tree as an expandable list) with an
// object panel, and a types table. Every name from the snapshot is set as text, never as
// markup. Plain DOM code, no library: the page needs no more than this.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("pymem-data").textContent);
  const O = D.objects, T = D.tree, P = D.paths, X = D.texts;
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k);
    return e;
  };
  const bytes = (n) => {
    if (n < 1024) return n + " B";
    const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    let v = n / 1024, u = 0;
    while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
    return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + " " + units[u];
  };
  const count = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const pct = (x) => (D.total_bytes > 0 ? (100 * x / D.total_bytes).toFixed(1) : "0.0") + " %";
  const typeOf = (o) => D.type_names[O.type[o]];
  const hue = (s) => { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0; return h % 360; };
  const moduleOfType = new Map(D.types.map((t) => [t.name, t.module]));
  const colour = (o) => {
    const m = moduleOfType.get(typeOf(o)) || typeOf(o);
    return "hsl(" + hue(m) + " 55% 78%)";
  };

  // The path expression of path entry i, as `pymem path` writes it.
  const pathExpr = (i, maxSteps) => {
    const parts = [];
    let x = i, steps = 0;
    while (x >= 0 && steps < maxSteps) { parts.push(X[P.frag[x]]); x = P.parent[x]; steps++; }
    let s = (x >= 0 ? "\u2026" : "") + parts.reverse().join("");
    if (P.dict[i] === 1) s += ".__dict__";
    return s;
  };
  const rootKindOf = (i) => { let x = i; while (P.parent[x] >= 0) x = P.parent[x]; return X[P.root_kind[x]]; };

  // The tree's children, largest first (nodes come largest first; folded ones last).
  const kids = T.parent.map(() => []);
  const top = [];
  T.parent.forEach((p, i) => (p < 0 ? top : kids[p]).push(i));
  const nodeOfObj = new Map();
  T.obj.forEach((o, i) => { if (o >= 0) nodeOfObj.set(o, i); });
  const label = (i) => {
    if (T.obj[i] < 0) return count(T.count[i]) + " smaller objects, " + bytes(T.bytes[i]);
    const o = T.obj[i];
    const p = T.path[i];
    let where = p >= 0 ? pathExpr(p, 40) : "";
    if (where.length > 70) where = "\u2026" + where.slice(where.length - 69);
    return typeOf(o) + (where ? "  " + where : "") + "  " + bytes(T.bytes[i]);
  };

  // Tabs.
  const S = D.series;
  const tabs = [["overview", "Overview"], ["retained", "Retained memory"], ["stake", "Caches and advice"], ["types", "Types"]];
  if (S) tabs.splice(1, 0, ["changes", S.gate ? "Leak gate" : "Leaks and changes"]);
  const nav = document.getElementById("tabs");
  const show = (id) => {
    for (const [t] of tabs) {
      document.getElementById(t).hidden = t !== id;
      document.getElementById("tab-" + t).setAttribute("aria-selected", String(t === id));
    }
    if (id === "retained") drawIcicle();
  };
  for (const [id, text] of tabs) {
    const b = el("button", { id: "tab-" + id, role: "tab", text });
    b.addEventListener("click", () => show(id));
    nav.append(b);
  }

  // Header and overview.
  const F = D.snapshot;
  document.getElementById("sub").textContent =
    [F.path, "Python " + F.python, F.pid != null ? "pid " + F.pid : "", F.time ? new Date(F.time * 1000).toISOString().replace(".000Z", "Z") : ""]
      .filter(Boolean).join(" \u00b7 ");
  const facts = document.getElementById("facts");
  const fact = (k, v) => facts.append(el("dt", { text: k }), el("dd", { text: v }));
  fact("Python", F.python + " (" + F.allocator + ")");
  if (F.pid != null) fact("Process", "pid " + F.pid);
  if (F.argv.length) fact("Command", F.argv.join(" "));
  if (F.time) fact("Captured", new Date(F.time * 1000).toISOString());
  fact("How", F.method + (F.stopped_ms != null ? ", process stopped " + F.stopped_ms.toFixed(0) + " ms" : "") + (F.complete ? "" : ", incomplete"));
  fact("Objects", count(F.objects) + " objects of " + count(F.types) + " types, " + count(F.refs) + " references");
  fact("Bytes", bytes(D.total_bytes) + " in objects and the buffers they own");
  if (D.unreachable_objects) fact("Garbage", count(D.unreachable_objects) + " unreachable objects, " + bytes(D.unreachable_bytes));
  if (F.rss) fact("RSS", bytes(F.rss));
  if (F.missing.length) fact("Not recorded", F.missing.join(", "));

  const mem = document.getElementById("memory");
  if (D.memory) {
    const names = { pymalloc_arenas: "pymalloc arenas", c_heap: "C heap", thread_stacks: "thread stacks", files: "files", other_anonymous: "other mappings" };
    const parts = [];
    for (const p of D.memory.parts) {
      if (p.part === "pymalloc_arenas" && D.memory.arena_live != null) {
        const live = Math.min(D.memory.arena_live, p.bytes);
        parts.push(["live objects (pymalloc)", live, p.how], ["free pymalloc space", p.bytes - live, p.how]);
      } else parts.push([names[p.part] || p.part, p.bytes, p.how]);
    }
    const sum = parts.reduce((a, p) => a + p[1], 0) || 1;
    const bar = el("div", { class: "bar", role: "img", "aria-label": "resident memory by part" });
    const legend = el("div", { class: "legend" });
    parts.forEach(([name, b, how], i) => {
      const c = "hsl(" + (210 + i * 47) % 360 + " 60% " + (55 + (i % 2) * 15) + "%)";
      const seg = el("div", { title: name + ": " + bytes(b) });
      seg.style.width = (100 * b / sum) + "%";
      seg.style.background = c;
      bar.append(seg);
      const sw = el("span", { class: "sw" });
      sw.style.background = c;
      legend.append(el("span", {}, sw, name + " " + bytes(b) + (how === "inferred" ? " (inferred)" : "")));
    });
    mem.append(el("p", { text: "Resident memory " + bytes(D.memory.rss) + ":" }), bar, legend);
  } else {
    mem.append(el("p", { class: "muted", text: "The capture did not measure the process's resident memory." }));
  }
  const biggest = document.getElementById("biggest");
  const tb = el("tbody");
  T.obj.slice(0, Math.min(T.obj.length, 12)).forEach((o, i) => {
    if (o < 0) return;
    const a = el("button", { class: "link", text: T.path[i] >= 0 ? pathExpr(T.path[i], 400) : O.addr[o] });
    a.addEventListener("click", () => { show("retained"); select(i, true); });
    tb.append(el("tr", {}, el("td", { class: "name" }, a), el("td", { text: typeOf(o) }),
      el("td", { class: "num", text: bytes(T.bytes[i]) }), el("td", { class: "num", text: pct(T.bytes[i]) })));
  });
  biggest.append(el("thead", {}, el("tr", {}, el("th", { text: "Object" }), el("th", { text: "Type" }),
    el("th", { class: "num", text: "Retained" }), el("th", { class: "num", text: "Share" }))), tb);

  // The icicle: the focused node on top, its descendants below, widths by retained bytes.
  const ice = document.getElementById("icicle");
  const crumbs = document.getElementById("crumbs");
  let focus = -1, selected = -1;
  const ROW = 27, LEVELS = 18;
  const drawIcicle = () => {
    if (document.getElementById("retained").hidden) return;
    ice.textContent = "";
    const width = ice.clientWidth;
    let deepest = 0;
    const place = (i, x, w, depth) => {
      deepest = Math.max(deepest, depth);
      const d = el("div", { class: "node" + (T.obj[i] < 0 ? " folded" : "") + (i === selected ? " selected" : ""),
        title: label(i), "data-node": String(i), tabindex: "0", role: "button" });
      d.textContent = label(i);
      d.style.left = x + "px"; d.style.top = depth * ROW + "px"; d.style.width = Math.max(w - 1, 1) + "px";
      if (T.obj[i] >= 0) d.style.background = colour(T.obj[i]);
      ice.append(d);
    };
    // Children too narrow to draw (they come last: largest first) share one grey box.
    const rest = (x, w, n, b, depth) => {
      if (w < 2) return;
      const d = el("div", { class: "node folded", title: count(n) + " objects, " + bytes(b) });
      deepest = Math.max(deepest, depth);
      d.textContent = count(n) + " more, " + bytes(b);
      d.style.left = x + "px"; d.style.top = depth * ROW + "px"; d.style.width = Math.max(w - 1, 1) + "px";
      ice.append(d);
    };
    const layout = (list, x, w, total, depth) => {
      if (depth >= LEVELS || total <= 0) return;
      let at = x, restN = 0, restB = 0, restAt = -1;
      for (const k of list) {
        const kw = w * T.bytes[k] / total;
        if (kw >= 4 && restAt < 0) {
          place(k, at, kw, depth);
          layout(kids[k], at, kw, T.bytes[k], depth + 1);
        } else {
          if (restAt < 0) restAt = at;
          restN += T.obj[k] < 0 ? T.count[k] : 1;
          restB += T.bytes[k];
        }
        at += kw;
      }
      if (restAt >= 0) rest(restAt, at - restAt, restN, restB, depth);
    };
    if (focus < 0) {
      layout(top, 0, width, D.total_bytes, 0);
    } else {
      place(focus, 0, width, 0);
      layout(kids[focus], 0, width, T.bytes[focus], 1);
    }
    ice.style.height = Math.max(6, deepest + 2) * ROW + "px";
    crumbs.textContent = "";
    const home = el("button", { text: "all objects" });
    home.addEventListener("click", () => zoom(-1));
    crumbs.append(home);
    const chain = [];
    for (let x = focus; x >= 0; x = T.parent[x]) chain.push(x);
    for (const x of chain.reverse()) {
      const b = el("button", { text: typeOf(T.obj[x]) });
      b.addEventListener("click", () => zoom(x));
      crumbs.append(" \u203a ", b);
    }
  };
  const zoom = (i) => { focus = i; drawIcicle(); };
  ice.addEventListener("click", (ev) => {
    const n = ev.target.closest(".node");
    if (!n) return;
    const i = Number(n.dataset.node);
    if (T.obj[i] < 0) return;
    if (i === focus && T.parent[i] >= 0) { zoom(T.parent[i]); select(i, false); return; }
    if (i === focus) { zoom(-1); select(i, false); return; }
    zoom(i); select(i, false);
  });
  ice.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); ev.target.click(); }
  });
  window.addEventListener("resize", drawIcicle);

  // The object panel.
  const panel = document.getElementById("panel");
  const neighbours = (title, list, total) => {
    const box = el("div", {}, el("h4", { text: title + " (" + count(total) + ")" }));
    if (!list.length) { box.append(el("p", { class: "muted", text: "none" })); return box; }
    const t = el("table");
    for (const [o, edge] of list) {
      const n = nodeOfObj.get(o);
      const name = el(n != null ? "button" : "span", { class: n != null ? "link" : "", text: typeOf(o) + " " + O.addr[o] });
      if (n != null) name.addEventListener("click", () => select(n, true));
      t.append(el("tr", {}, el("td", { class: "edge", title: X[edge] }, el("code", { text: X[edge] })), el("td", { class: "name" }, name),
        el("td", { class: "num", text: bytes(O.retained[o]) })));
    }
    box.append(t);
    if (total > list.length) box.append(el("p", { class: "muted", text: "the " + list.length + " biggest shown" }));
    return box;
  };
  const select = (i, reveal) => {
    selected = i;
    if (reveal) zoom(T.parent[i] >= 0 ? T.parent[i] : -1); else drawIcicle();
    panel.textContent = "";
    const o = T.obj[i];
    panel.append(el("h3", { text: typeOf(o) + " at " + O.addr[o] }));
    const dl = el("dl", { class: "facts" });
    const row = (k, v) => dl.append(el("dt", { text: k }), el("dd", { text: v }));
    row("Own", bytes(O.own[o]));
    row("Retained", bytes(O.retained[o]) + " (" + pct(O.retained[o]) + ")");
    if (T.parent[i] >= 0) row("Dominator", typeOf(T.obj[T.parent[i]]) + " at " + O.addr[T.obj[T.parent[i]]]);
    if (O.defined[o]) row("Defined", X[O.defined[o]]);
    if (O.allocated[o]) row("Allocated", X[O.allocated[o]]);
    panel.append(dl);
    panel.append(el("h4", { text: "Why it is alive" }));
    if (T.path[i] >= 0) {
      panel.append(el("div", { class: "path", id: "panel-path", text: pathExpr(T.path[i], Infinity) }),
        el("p", { class: "muted", text: "held by a " + rootKindOf(T.path[i]) + " root" }));
    } else {
      panel.append(el("p", { class: "muted", text: "No path embedded: pymem path " + O.addr[o] }));
    }
    panel.append(neighbours("Referrers", D.referrers[i], D.referrers_total[i]));
    panel.append(neighbours("Referents", D.referents[i], D.referents_total[i]));
    panel.append(el("p", { class: "muted" }, "More: ", el("code", { text: "pymem show " + O.addr[o] })));
  };

  // Search by type, module, address or path text.
  const search = document.getElementById("search");
  const results = document.getElementById("results");
  const haystack = [];
  const find = () => {
    const q = search.value.trim().toLowerCase();
    results.textContent = "";
    if (!q) { results.hidden = true; return; }
    if (!haystack.length) {
      T.obj.forEach((o, i) => {
        haystack.push(o < 0 ? "" : [typeOf(o), moduleOfType.get(typeOf(o)) || "", O.addr[o],
          T.path[i] >= 0 ? pathExpr(T.path[i], 200) : ""].join("\n").toLowerCase());
      });
    }
    const ul = el("ul");
    let n = 0;
    for (const t of D.types) {
      if (n >= 10) break;
      if (!t.name.toLowerCase().includes(q) && !t.module.toLowerCase().includes(q)) continue;
      const b = el("button", { class: "link", text: "type " + t.name + ": " + count(t.count) + " objects, " +
        bytes(t.own) + " own, " + bytes(t.retained) + " retained" });
      b.addEventListener("click", () => { filter.value = t.name; drawTypes(); show("types"); });
      ul.append(el("li", {}, b));
      n++;
    }
    for (let i = 0; i < haystack.length; i++) {
      if (n >= 100) break;
      if (!haystack[i].includes(q)) continue;
      const b = el("button", { class: "link", text: label(i) + (T.path[i] >= 0 ? "  \u2190 " + pathExpr(T.path[i], 12) : "") });
      b.addEventListener("click", () => select(i, true));
      ul.append(el("li", {}, b));
      n++;
    }
    results.append(n ? ul : el("p", { class: "muted", text: "No embedded object matches." }));
    results.hidden = false;
  };
  search.addEventListener("input", find);

  // The same tree as an expandable list, for the keyboard and screen readers.
  const treeList = document.getElementById("tree");
  const item = (i) => {
    const li = el("li", { role: "treeitem", "aria-expanded": "false" });
    const has = kids[i].length > 0;
    const tw = el("button", { class: "twisty", "aria-label": "expand", text: has ? "\u25b8" : " " });
    const name = el("button", { class: "link", text: label(i) });
    if (T.obj[i] >= 0) name.addEventListener("click", () => select(i, true)); else name.disabled = true;
    li.append(tw, name);
    let open = false, sub = null;
    tw.addEventListener("click", () => {
      if (!has) return;
      open = !open;
      li.setAttribute("aria-expanded", String(open));
      tw.textContent = open ? "\u25be" : "\u25b8";
      if (open && !sub) { sub = el("ul", { role: "group" }); kids[i].slice(0, 500).forEach((k) => sub.append(item(k))); li.append(sub); }
      if (sub) sub.hidden = !open;
    });
    return li;
  };
  top.slice(0, 500).forEach((i) => treeList.append(item(i)));
  document.getElementById("bounds").textContent = "Embedded: " + count(T.obj.filter((o) => o >= 0).length) +
    " objects retaining at least " + bytes(D.min_retained) + (D.node_limited ? " (the largest only)" : "") +
    "; smaller ones are folded, one node per parent.";

  // Types table: sortable, filterable.
  const typesBody = document.getElementById("types-body");
  const filter = document.getElementById("types-filter");
  let sortKey = "retained", sortDesc = true;
  const drawTypes = () => {
    const q = filter.value.trim().toLowerCase();
    const rows = D.types.filter((t) => !q || t.name.toLowerCase().includes(q) || t.module.toLowerCase().includes(q));
    rows.sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      const c = typeof x === "string" ? x.localeCompare(y) : x - y;
      return (sortDesc ? -c : c) || a.name.localeCompare(b.name);
    });
    typesBody.textContent = "";
    for (const t of rows) {
      typesBody.append(el("tr", {}, el("td", { class: "name", text: t.name }), el("td", { class: "name", text: t.module }),
        el("td", { class: "num", text: count(t.count) }), el("td", { class: "num", text: bytes(t.own) }),
        el("td", { class: "num", text: bytes(t.retained) }), el("td", { class: "num", text: pct(t.retained) })));
    }
    document.getElementById("types-note").textContent = rows.length + " of " + count(D.types_total) + " types shown";
  };
  document.querySelectorAll("#types th button").forEach((b) => b.addEventListener("click", () => {
    const k = b.dataset.key;
    sortDesc = k === sortKey ? !sortDesc : k !== "name" && k !== "module";
    sortKey = k;
    drawTypes();
  }));
  filter.addEventListener("input", drawTypes);
  drawTypes();

  // A series: the verdict, the leak roots with their growth per round, the diff.
  const signed = (n) => (n > 0 ? "+" : n < 0 ? "\u2212" : "") + bytes(Math.abs(n));
  const spark = (values) => {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    const w = 90, h = 24, v = values.map((x) => (x == null ? 0 : x));
    const max = Math.max(...v, 1);
    svg.setAttribute("width", w); svg.setAttribute("height", h); svg.setAttribute("class", "spark");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "retained per snapshot: " + v.map(bytes).join(", "));
    const pts = v.map((x, i) => [4 + i * (w - 8) / Math.max(v.length - 1, 1), h - 3 - (h - 6) * x / max]);
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", pts.map((p) => p.join(",")).join(" "));
    svg.append(line);
    for (const [x, y] of pts) {
      const c = document.createElementNS(ns, "circle");
      c.setAttribute("cx", x); c.setAttribute("cy", y); c.setAttribute("r", 2);
      svg.append(c);
    }
    return svg;
  };
  // A leak root links to its node in the tree when the page embeds it.
  const nodeOfAddr = new Map();
  T.obj.forEach((o, i) => { if (o >= 0) nodeOfAddr.set(O.addr[o], i); });
  const rootLink = (r) => {
    const text = r.path ? r.path.expr : r.addr;
    const n = nodeOfAddr.get(r.addr);
    if (n == null) return el("code", { text });
    const b = el("button", { class: "link" }, el("code", { text }));
    b.addEventListener("click", () => { show("retained"); select(n, true); });
    return b;
  };
  if (S) {
    const L = S.gate ? S.gate.leaks : S.leaks;
    if (S.gate) {
      const g = S.gate;
      const box = el("div", { class: "verdict " + (g.passed ? "pass" : "fail"), id: "verdict-text",
        text: (g.passed ? "PASS" : "FAIL") + ": " + count(g.leak_roots) + (g.leak_roots === 1 ? " leak root, " : " leak roots, ") + bytes(g.growth) + " of growth" });
      const ul = el("ul");
      for (const b of g.breaches) {
        const isBytes = b.limit !== "max_leaks";
        ul.append(el("li", { text: b.limit + ": " + (isBytes ? bytes(b.value) : count(b.value)) + " (allowed " + (isBytes ? bytes(b.allowed) : count(b.allowed)) + ")" }));
      }
      document.getElementById("verdict").append(box, ul);
    }
    document.getElementById("leak-rule").textContent = L.rule;
    const lt = document.getElementById("leaks");
    lt.append(el("thead", {}, el("tr", {}, ...["Leak root", "Type", "Growth / round", "Entries", "Retained", "What accumulates"]
      .map((h, i) => el("th", { class: i >= 2 && i <= 4 ? "num" : "", text: h })))));
    const lb = el("tbody");
    for (const r of L.roots) {
      const what = r.types.slice(0, 3).map((t) => t.type + " \u00d7" + count(t.count)).join(", ");
      lb.append(el("tr", {},
        el("td", { class: "name" }, rootLink(r), r.leak ? "" : el("span", { class: "muted", text: " (not counted as a leak)" })),
        el("td", { text: r.type + " (" + r.kind + ")" }),
        el("td", { class: "num grow", text: signed(r.growth_per_round) }),
        el("td", { class: "num", text: r.entries.map((e) => (e == null ? "?" : count(e))).join(" \u2192 ") }),
        el("td", { class: "num" }, spark(r.retained), " " + r.retained.map((x) => (x == null ? "?" : bytes(x))).join(" \u2192 ")),
        el("td", { class: "name", text: what })));
    }
    if (!L.roots.length) lb.append(el("tr", {}, el("td", { class: "muted", text: "No container grew." })));
    lt.append(lb);
    const dt = document.getElementById("diff");
    const d = S.diff;
    document.getElementById("diff-note").textContent = count(d.changed_groups) + " types changed; " +
      signed(d.totals.bytes_delta) + " and " + (d.totals.count_delta >= 0 ? "+" : "") + count(d.totals.count_delta) + " objects in all" +
      (d.identity_note ? ". " + d.identity_note : "");
    dt.append(el("thead", {}, el("tr", {}, ...["Type", "Count", "Change", "Bytes", "Change", "New", "Gone"]
      .map((h, i) => el("th", { class: i ? "num" : "", text: h })))));
    const db = el("tbody");
    for (const r of d.rows) {
      db.append(el("tr", {}, el("td", { class: "name", text: r.key }),
        el("td", { class: "num", text: count(r.count_a) + " \u2192 " + count(r.count_b) }),
        el("td", { class: "num " + (r.count_delta > 0 ? "grow" : r.count_delta < 0 ? "shrink" : ""), text: (r.count_delta > 0 ? "+" : "") + count(r.count_delta) }),
        el("td", { class: "num", text: bytes(r.bytes_a) + " \u2192 " + bytes(r.bytes_b) }),
        el("td", { class: "num " + (r.bytes_delta > 0 ? "grow" : r.bytes_delta < 0 ? "shrink" : ""), text: signed(r.bytes_delta) }),
        el("td", { class: "num", text: r.new == null ? "" : count(r.new) }),
        el("td", { class: "num", text: r.gone == null ? "" : count(r.gone) })));
    }
    dt.append(db);
  }

  // The arena map on a canvas: one row per arena, one cell per pool shaded by use, pinned
  // arenas marked in red at the left.
  const arenaMap = (M) => {
    const pools = M.rows.reduce((a, r) => Math.max(a, r.length), 1);
    const cell = Math.max(2, Math.min(10, Math.floor(1000 / pools)));
    const rowH = Math.max(2, Math.min(10, Math.floor(1200 / Math.max(M.rows.length, 1))));
    const left = 8;
    const c = el("canvas", { class: "arenas", role: "img",
      "aria-label": "arena map: " + M.rows.length + " arenas, " + M.pinned.filter(Boolean).length + " pinned" });
    c.width = left + pools * cell; c.height = M.rows.length * rowH;
    const g = c.getContext("2d");
    M.rows.forEach((r, y) => {
      if (M.pinned[y]) { g.fillStyle = M.pinned_colour; g.fillRect(0, y * rowH, left - 2, rowH); }
      for (let x = 0; x < r.length; x++) {
        const ch = r.charCodeAt(x);
        g.fillStyle = ch === 45 ? M.empty : M.palette[Math.min(ch - 97, 20)] || M.empty;
        g.fillRect(left + x * cell, y * rowH, cell - (cell > 3 ? 1 : 0), rowH - (rowH > 3 ? 1 : 0));
      }
    });
    const legend = el("div", { class: "legend" });
    for (const [name, colour] of [["1 % used", M.palette[0]], ["50 %", M.palette[10]], ["100 %", M.palette[20]], ["empty pool", M.empty], ["pinned arena", M.pinned_colour]]) {
      const sw = el("span", { class: "sw" }); sw.style.background = colour;
      legend.append(el("span", {}, sw, name));
    }
    const box = el("div", {}, legend, c);
    if (M.more) box.append(el("p", { class: "muted", text: count(M.more) + " more arenas not drawn" }));
    return box;
  };

  // Caches, advice and fragmentation, each with the bytes at stake.
  const Fd = D.findings;
  const table = (id, heads, rows) => {
    const t = document.getElementById(id);
    if (!rows.length) return;
    t.append(el("thead", {}, el("tr", {}, ...heads.map(([h, num]) => el("th", { class: num ? "num" : "", text: h })))));
    const b = el("tbody");
    for (const r of rows) b.append(el("tr", {}, ...r));
    t.append(b);
  };
  const C = Fd.caches;
  document.getElementById("caches-note").textContent = C.caches.length
    ? "Containers of at least " + count(C.min_entries) + " entries reached from a module or the interpreter" + (C.more ? "; " + count(C.more) + " more not shown" : "") + "."
    : "No container of " + count(C.min_entries) + " entries or more acts as a cache.";
  table("caches", [["Cache"], ["Kind"], ["Entries", 1], ["Bound", 1], ["Retained", 1], ["Verdict"], ["Holds"]],
    C.caches.map((c) => [el("td", { class: "name" }, rootLink(c)), el("td", { text: c.kind }),
      el("td", { class: "num", text: c.entries.map((e) => (e == null ? "?" : count(e))).join(" \u2192 ") }),
      el("td", { class: "num", text: c.bound == null ? "none" : count(c.bound) }),
      el("td", { class: "num", text: bytes(c.retained) }), el("td", { text: c.verdict }),
      el("td", { class: "name", text: c.value_types.slice(0, 3).map((t) => t.type + " \u00d7" + count(t.count)).join(", ") })]));
  const adv = document.getElementById("advice");
  if (!Fd.advice.items.length) adv.append(el("p", { class: "muted", text: "Nothing to advise." }));
  for (const a of Fd.advice.items) {
    const ul = el("ul");
    for (const x of a.examples.slice(0, 5)) {
      ul.append(el("li", {}, el("code", { text: x.what }), " \u00d7" + count(x.count) + ", " + bytes(x.saving)));
    }
    adv.append(el("h3", { text: a.title + " \u2014 " + bytes(a.saving) + " at stake" }), ul);
  }
  const fr = document.getElementById("frag");
  if (Fd.frag) {
    const f = Fd.frag;
    fr.append(el("p", { text: count(f.arenas) + " arenas hold " + bytes(f.held_bytes) + ", of it " + bytes(f.live_bytes) +
      " in live blocks (" + (100 * f.fragmentation).toFixed(1) + " % fragmentation). " + count(f.pinned_arenas) +
      " arenas are pinned (used below " + (100 * f.threshold).toFixed(0) + " %), keeping " + bytes(f.pinned_unused_bytes) + " unused but resident." }));
    if (Fd.arena_map) fr.append(arenaMap(Fd.arena_map));
    const ft = el("table", { id: "pins" });
    fr.append(el("h3", { text: "What pins them" }), ft);
    table("pins", [["Type or owner"], ["Kind"], ["Blocks", 1], ["Live", 1], ["Arenas", 1], ["Unused bytes charged", 1], ["Held by"]],
      f.findings.map((g) => [el("td", { class: "name", text: g.key }), el("td", { text: g.kind }),
        el("td", { class: "num", text: count(g.blocks) }), el("td", { class: "num", text: bytes(g.live_bytes) }),
        el("td", { class: "num", text: count(g.arenas) }), el("td", { class: "num", text: bytes(g.attributed_bytes) }),
        el("td", { class: "name" }, el("code", { text: g.held_by ? g.held_by.expr : "" }))]));
  } else {
    fr.append(el("p", { class: "muted", text: "No arena map: " + Fd.frag_missing }));
  }

  document.getElementById("privacy").textContent = D.values
    ? "This snapshot was captured with --values: the page may hold string contents."
    : "This page holds what the snapshot holds: type, attribute, key and module names, addresses and sizes; no string contents.";
  show(S ? "changes" : "overview");
  if (T.obj.length && T.obj[0] >= 0) select(0, false);
  document.body.dataset.ready = "1";
})();
