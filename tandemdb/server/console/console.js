// The Tandem console: polls this node's /v1/console/* endpoints and renders the cluster or one node.
"use strict";

const POLL_MS = 1000;
const WINDOW_S = 300;
let cluster = null;
let series = { node: 0, points: [] };

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) el.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function table(headers, rows, attrs = {}) {
  const head = h("tr", {}, headers.map(([label, cls]) => h("th", { class: cls }, label)));
  return h("table", attrs, h("thead", {}, head), h("tbody", {}, rows));
}

function section(title, ...body) {
  return h("section", {}, h("h2", {}, title), ...body);
}

function badge(state) {
  return h("span", { class: `badge ${state}` }, state);
}

function routeNode() {
  const m = location.hash.match(/^#node\/(\d+)$/);
  return m ? Number(m[1]) : null;
}

async function getJSON(url) {
  const resp = await fetch(url, { cache: "no-store" });
  if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status}`);
  return resp.json();
}

// -- data helpers --------------------------------------------------------------------------------------------
function dataGroup(summary) {
  return summary && summary.groups.length ? summary.groups[0] : null;
}

function roleOf(node, groups) {
  const g = dataGroup(node.summary);
  if (!g) return "";
  if (g.is_leader && groups.some((x) => x.leader === node.id)) return "leader";
  return node.learner ? "learner" : "follower";
}

function leaderOf(groups) {
  return groups.length ? groups[0].leader : 0;
}

function chartNode() {
  return routeNode() || (cluster && leaderOf(cluster.groups)) || (cluster && cluster.served_by) || 0;
}

function ago(t) {
  const s = Math.max(0, Date.now() / 1000 - t);
  return s < 60 ? `${Math.round(s)} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

// -- views ---------------------------------------------------------------------------------------------------
function nodesView() {
  const groups = cluster.groups;
  const commit = groups.length ? groups[0].commit : 0;
  const rows = cluster.nodes.map((n) => {
    const g = dataGroup(n.summary);
    const role = roleOf(n, groups);
    const cells = [
      h("td", {}, h("a", { href: `#node/${n.id}` }, `node ${n.id}`)),
      h("td", {}, badge(n.state)),
      h("td", { class: role === "leader" ? "role-leader" : "" }, role || "-"),
      h("td", { class: "num" }, g ? g.term : "-"),
      h("td", { class: "num" }, g ? g.commit : "-"),
      h("td", { class: "num" }, g ? g.applied : "-"),
      h("td", { class: "num" }, g ? Math.max(0, commit - g.applied) : "-"),
      h("td", { class: "num" }, n.rtt_ms === null ? "-" : `${n.rtt_ms.toFixed(2)} ms`),
      h("td", {}, n.region || "-"),
      h("td", {}, n.zone || "-"),
    ];
    return h("tr", { class: "node", "data-node": n.id, "data-state": n.state, "data-role": role }, cells);
  });
  const up = cluster.nodes.filter((n) => n.state === "up").length;
  const headers = [["Node"], ["State"], ["Role"], ["Term", "num"], ["Commit", "num"], ["Applied", "num"],
                   ["Lag", "num"], ["RTT", "num"], ["Region"], ["Zone"]];
  return section(`Nodes: ${up} of ${cluster.nodes.length} up`, table(headers, rows, { id: "nodes" }));
}

function groupsView() {
  const rows = cluster.groups.map((g) =>
    h("tr", { class: "group", "data-group": g.group, "data-leader": g.leader },
      h("td", {}, `group ${g.group}`),
      h("td", { id: `leader-${g.group}` }, g.leader ? `node ${g.leader}` : "none"),
      h("td", { class: "num" }, g.term), h("td", { class: "num" }, g.commit)));
  return section("Raft groups", table([["Group"], ["Leader"], ["Term", "num"], ["Commit", "num"]], rows));
}

function eventsView(events) {
  const rows = events.map((e) =>
    h("tr", { class: `event ${e.kind}` }, h("td", { class: "muted" }, ago(e.t)), h("td", {}, `node ${e.node}`),
      h("td", {}, e.kind), h("td", { class: "msg" }, e.message)));
  return section("Recent events", table([["When"], ["Seen by"], ["Kind"], ["Event"]], rows, { class: "events" }));
}

function chartsView() {
  const pts = series.points;
  const now = pts.length ? Math.max(Date.now() / 1000, pts[pts.length - 1].t) : Date.now() / 1000;
  const line = (label, color, key) => ({ label, color, points: pts.map((p) => [p.t, p[key]]) });
  const card = (title, unit, lines) =>
    h("div", { class: "chart" },
      h("h3", {}, title, h("span", { class: "muted" }, ` (max ${formatNumber(chartMax(lines))} ${unit})`)),
      lineChart(lines, { now, seconds: WINDOW_S }),
      h("div", { class: "legend" }, lines.map((l) => [h("i", { style: `background:${l.color}` }), l.label]),
        h("span", { class: "axis" }, `${WINDOW_S / 60} min ago \u2192 now`)));
  return section(`Node ${series.node}: the last ${WINDOW_S / 60} minutes`,
    h("div", { class: "charts" },
      card("Throughput", "req/s", [line("requests/s", "#2563eb", "requests_per_s")]),
      card("Request latency", "ms", [line("p50", "#16a34a", "p50_ms"), line("p99", "#dc2626", "p99_ms")]),
      card("WAL fsync", "ms", [line("p99", "#9333ea", "fsync_p99_ms")])));
}

function nodeView(id) {
  const n = cluster.nodes.find((x) => x.id === id);
  if (!n) return [section(`Node ${id}`, h("p", {}, "Not a member of this cluster."))];
  const s = n.summary;
  const facts = [["State", badge(n.state)], ["Role", roleOf(n, cluster.groups) || "-"], ["Region", n.region || "-"],
                 ["Zone", n.zone || "-"], ["HTTP", n.http || "-"]];
  if (s) facts.push(["Client", s.client], ["Version", s.version], ["Up since", ago(s.started)]);
  const detail = section(h("span", {}, h("a", { href: "#" }, "Cluster"), ` / node ${id}`),
    table([["Fact"], ["Value"]], facts.map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, v))), { id: "node" }));
  if (!s) return [detail];
  const groupRows = s.groups.map((g) => h("tr", {}, h("td", {}, `group ${g.group}`), h("td", {}, g.is_leader ? "leader" : "follower"),
    h("td", { class: "num" }, g.term), h("td", { class: "num" }, g.commit), h("td", { class: "num" }, g.applied),
    h("td", { class: "num" }, g.keys), h("td", { class: "num" }, g.db_bytes), h("td", { class: "num" }, g.leader_changes)));
  const groups = section("Groups on this node", table([["Group"], ["Role"], ["Term", "num"], ["Commit", "num"],
    ["Applied", "num"], ["Keys", "num"], ["Bytes", "num"], ["Leader changes", "num"]], groupRows));
  const peerRows = Object.entries(s.peers).map(([p, rtt]) =>
    h("tr", {}, h("td", {}, `node ${p}`), h("td", { class: "num" }, rtt === null ? "-" : `${rtt.toFixed(2)} ms`)));
  const peers = section("Peers", table([["Peer"], ["Last round trip", "num"]], peerRows));
  return [detail, groups, peers, chartsView(), eventsView(s.events.slice().reverse())];
}

function render() {
  const app = document.getElementById("app");
  const id = routeNode();
  const views = id ? nodeView(id) : [nodesView(), groupsView(), chartsView(), eventsView(cluster.events)];
  app.replaceChildren(...views);
  document.getElementById("served-by").textContent = `served by node ${cluster.served_by}`;
  document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

async function poll() {
  try {
    cluster = await getJSON("/v1/console/cluster");
    const id = chartNode();
    if (id) series = await getJSON(`/v1/console/series?node=${id}&seconds=${WINDOW_S}`);
    render();
  } catch (e) {
    document.getElementById("updated").textContent = `cannot reach this node: ${e.message}`;
  }
}

window.addEventListener("hashchange", () => cluster && render());
poll();
setInterval(poll, POLL_MS);
