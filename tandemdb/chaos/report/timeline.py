"""The run's HTML timeline: one lane per client process, each op a bar from invocation to completion (colour:
ok, fail, info), the faults in a lane of their own, and the ops a checker named outlined. Hover for details.
Self-contained: one file, no scripts."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path

from ...checker.history import Op
from .plots import FAULT_COLORS, STATUS_COLORS

MAX_OPS = 20_000
LANE_PX = 16
LEFT_PX = 90


def write(ops: Sequence[Op], results: dict, path: Path) -> None:
    flagged = set(results["checker"].get("ops", []))
    shown = [op for op in ops if op.id in flagged] + [op for op in ops if op.id not in flagged]
    shown = sorted(shown[:MAX_OPS], key=lambda op: op.id)
    end = max([op.complete or op.invoke for op in ops] + [f["end"] or f["start"] for f in results["faults"]] + [1.0])
    scale = max(20.0, min(200.0, 6000.0 / end))  # pixels per second
    families = list(dict.fromkeys(f["nemesis"] for f in results["faults"]))  # one lane each, above the processes
    lanes = {p: i + len(families) for i, p in enumerate(sorted({op.process for op in shown}))}
    bars = []
    for fault in results["faults"]:
        stop = fault["end"] if fault["end"] is not None else fault["start"]
        tip = f"{fault['nemesis']} {fault['kind']} on {fault['targets']}: {fault['detail']} ({fault['start']}-{stop} s)"
        bars.append(
            _bar(
                fault["start"],
                max(stop - fault["start"], 0.1),
                families.index(fault["nemesis"]),
                FAULT_COLORS.get(fault["nemesis"], "#999"),
                tip,
                scale,
                f"{fault['kind']} {fault['targets']}",
            )
        )
    for op in shown:
        stop = op.complete if op.complete is not None else end
        tip = _describe(op)
        extra = " flagged" if op.id in flagged else ""
        bars.append(
            _bar(
                op.invoke,
                max(stop - op.invoke, 0.002),
                lanes[op.process],
                STATUS_COLORS[op.status],
                tip,
                scale,
                "",
                extra,
            )
        )
    labels = [f'<div class="label" style="top:{LANE_PX * i}px">{name}</div>' for i, name in enumerate(families)]
    labels += [f'<div class="label" style="top:{LANE_PX * i}px">process {p}</div>' for p, i in lanes.items()]
    ticks = [
        f'<div class="tick" style="left:{LEFT_PX + t * scale:.0f}px">{t} s</div>' for t in range(0, int(end) + 1, 5)
    ]
    verdict = {True: "valid", False: "INVALID", None: "unknown"}[results["valid"]]
    summary = {k: results[k] for k in ("workload", "nemeses", "nodes", "seed", "bug", "time_s")}
    summary["net"] = results["net"]["mode"]
    note = f"<p>Showing {len(shown)} of {len(ops)} ops.</p>" if len(shown) < len(ops) else ""
    explanation = results["checker"].get("explanation", "")
    page = _PAGE.format(
        title=f"tandem chaos: {results['workload']} seed {results['seed']}",
        verdict=verdict,
        verdict_class=verdict.lower(),
        summary=html.escape(json.dumps(summary)),
        explanation=f"<pre>{html.escape(explanation)}</pre>" if explanation else "",
        note=note,
        width=int(LEFT_PX + end * scale + 50),
        height=LANE_PX * (len(lanes) + len(families)) + 30,
        body="\n".join(labels + ticks + bars),
        lane=LANE_PX,
        left=LEFT_PX,
    )
    path.write_text(page)


def _bar(start: float, length: float, lane: int, color: str, tip: str, scale: float, text: str, extra: str = "") -> str:
    return (
        f'<div class="op{extra}" style="left:{LEFT_PX + start * scale:.1f}px;width:{max(length * scale, 2):.1f}px;'
        f'top:{lane * LANE_PX}px;background:{color}" title="{html.escape(tip)}">{html.escape(text)}</div>'
    )


def _describe(op: Op) -> str:
    parts = [f"op {op.id} process {op.process}: {op.f}"]
    if op.key is not None:
        parts.append(f"key {op.key}")
    if op.value is not None:
        parts.append(f"value {json.dumps(op.value)}")
    parts.append(f"-> {op.status}")
    if op.output is not None:
        parts.append(f"output {json.dumps(op.output)}")
    end = f"{op.complete:.3f}" if op.complete is not None else "?"
    parts.append(f"[{op.invoke:.3f} s .. {end} s]")
    if op.node:
        parts.append(f"at {op.node}")
    if op.error:
        parts.append(op.error)
    return " ".join(parts)


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1em; }}
.valid {{ color: #2a9d5c; }} .invalid {{ color: #d62828; }} .unknown {{ color: #f4a259; }}
#chart {{ position: relative; width: {width}px; height: {height}px; border-top: 1px solid #ccc; }}
.op {{ position: absolute; height: {lane}px; box-sizing: border-box; border: 1px solid rgba(0,0,0,.15);
       font-size: 10px; overflow: hidden; white-space: nowrap; color: #222; }}
.op.flagged {{ border: 2px solid #000; z-index: 2; }}
.label {{ position: absolute; left: 0; width: {left}px; height: {lane}px; font-size: 10px; line-height: {lane}px; }}
.tick {{ position: absolute; bottom: 0; font-size: 10px; color: #666; border-left: 1px solid #ddd; height: 100%; }}
pre {{ background: #f6f6f6; padding: .5em; overflow-x: auto; }}
</style></head>
<body>
<h1>{title}: <span class="{verdict_class}">{verdict}</span></h1>
<p><code>{summary}</code></p>
{explanation}
{note}
<div id="chart">
{body}
</div>
</body></html>
"""
