// A tiny line chart drawn as SVG: several series of {t, value} over a fixed time window ending now.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const CHART_W = 600, CHART_H = 140, PAD = 4;

function svgEl(tag, attrs) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

// lines: [{label, color, points: [[t, v], ...]}]; window of `seconds` ending at `now` (unix seconds).
function chartMax(lines) {
  return Math.max(0, ...lines.flatMap((l) => l.points.map((p) => p[1])));
}

function lineChart(lines, { now, seconds }) {
  const svg = svgEl("svg", { viewBox: `0 0 ${CHART_W} ${CHART_H}`, preserveAspectRatio: "none" });
  const max = Math.max(1e-9, chartMax(lines));
  const x = (t) => PAD + ((t - (now - seconds)) / seconds) * (CHART_W - 2 * PAD);
  const y = (v) => CHART_H - PAD - (v / max) * (CHART_H - 2 * PAD);
  for (const frac of [0.25, 0.5, 0.75]) {
    svg.appendChild(svgEl("line", { x1: 0, x2: CHART_W, y1: y(max * frac), y2: y(max * frac), stroke: "#eceff3" }));
  }
  for (const line of lines) {
    const pts = line.points.filter((p) => p[0] >= now - seconds).map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`);
    if (pts.length) {
      svg.appendChild(svgEl("polyline", { points: pts.join(" "), fill: "none", stroke: line.color, "stroke-width": 2,
                                          "vector-effect": "non-scaling-stroke" }));
    }
  }
  return svg;
}

function formatNumber(v) {
  if (v >= 100) return Math.round(v).toString();
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
