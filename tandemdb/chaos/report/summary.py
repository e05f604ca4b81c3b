"""The summary printed at the end of a run (rich): the verdict and why, the ops, the faults, the artefacts."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

VERDICTS = {True: "[bold green]VALID[/]", False: "[bold red]INVALID[/]", None: "[bold yellow]UNKNOWN[/]"}


def render(results: dict, console: Console) -> None:
    checker = results["checker"]
    console.rule(f"tandem chaos: {results['workload']}, seed {results['seed']}")
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("verdict", f"{VERDICTS[results['valid']]} (exit {results['exit_code']})")
    table.add_row(
        "cluster",
        f"{results['nodes']} nodes, {results['net']['mode']} ({results['net']['why']})"
        + (f", bug [red]{results['bug']}[/]" if results["bug"] else ""),
    )
    ops = results["ops"]
    per_f = ", ".join(f"{f}: {c['ok']} ok / {c['fail']} fail / {c['info']} info" for f, c in ops["by_f"].items())
    table.add_row("ops", f"{ops['total']} ({per_f})")
    families = Counter(f"{f['nemesis']} {f['kind']}" for f in results["faults"])
    table.add_row("faults", ", ".join(f"{name} x{n}" for name, n in sorted(families.items())) or "none")
    table.add_row(checker["checker"], _verdict(checker["valid"]) + _checker_detail(checker))
    rec = results["recovery"]
    table.add_row(
        "recovery",
        _verdict(rec["valid"]) + f" ({rec['quiet_ok_ops']} ok ops after healing, "
        f"final reads {'answered' if rec['final_reads'] else 'NOT answered'}, "
        f"membership {'restored' if rec['members_restored'] else 'NOT restored'})",
    )
    table.add_row(
        "crashes",
        "; ".join(f"node {c['node']} at {c['time']:.1f} s: {c['detail']}" for c in results["crashes"]) or "none",
    )
    if results["events"]:
        table.add_row(
            "events", "; ".join(f"{e['kind']} at {e['time']:.1f} s: {e['detail']}" for e in results["events"])
        )
    console.print(table)
    if checker.get("explanation"):
        console.print(checker["explanation"], markup=False, highlight=False)
    art = results["artifacts"]
    console.print(
        f"history  {art['history']}\nresults  {art['results']}\nplots    {art['latency_plot']}, "
        f"{art['rate_plot']}\ntimeline {art['timeline']}\nlogs     {art['logs']}",
        markup=False,
        highlight=False,
    )


def _verdict(valid: bool | None) -> str:
    return {True: "[green]valid[/]", False: "[red]invalid[/]", None: "[yellow]unknown[/]"}[valid]


def _checker_detail(checker: dict) -> str:
    if checker["checker"] == "linearizability":
        detail = f" ({checker['keys_checked']} keys checked"
        if checker["unknown_keys"]:
            detail += f", {len(checker['unknown_keys'])} unknown"
        if checker["failures"]:
            detail += f", not linearizable: {', '.join(checker['failures'][:5])}"
        return detail + ")"
    if checker["checker"] == "bank":
        return f" ({checker['reads']} reads, {checker['bad_count']} bad)"
    types = ", ".join(f"{t} x{n}" for t, n in sorted(checker["counts"].items()))
    return f" ({checker['txns']} txns on {checker['keys']} keys" + (f"; {types}" if types else "") + ")"
