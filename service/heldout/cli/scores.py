"""Printing benchmark documents: scores with intervals, leaderboards, submissions."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from heldout.cli.output import console, errors

ARROWS = {"lower-is-better": "↓ lower is better", "higher-is-better": "↑ higher is better"}


def number(value: Any) -> str:
    """A metric value for people (rounded only here, for display)."""
    if value is None:
        return "—"
    return f"{float(value):.4f}" if isinstance(value, int | float) else str(value)


def interval(scores: dict[str, Any] | None, metric: str) -> str:
    """``[low, high]`` of ``metric`` in a scores document, or an empty string."""
    found = ((scores or {}).get("intervals") or {}).get(metric)
    if not found:
        return ""
    return f"[{number(found.get('low'))}, {number(found.get('high'))}]"


def print_warnings(doc: dict[str, Any]) -> None:
    """Warnings a benchmark carries (held-out labels public elsewhere, …), on stderr."""
    for warning in doc.get("warnings") or []:
        errors.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)


def scores_table(title: str, scores: dict[str, Any]) -> Table:
    """One part's metrics (primary first) with their 95% intervals."""
    table = Table(title=title, title_justify="left")
    for column in ("metric", "value", "95% interval"):
        table.add_column(column)
    if scores.get("ladder") is not None:
        ladder = scores.get("ladder") or {}
        table.add_row(f"{scores.get('primary_metric')} (Ladder)", number(ladder.get("value")),
                      "hidden under Ladder feedback")
        return table
    metrics = dict(scores.get("metrics") or {})
    primary = scores.get("primary_metric")
    ordered = [primary, *[m for m in metrics if m != primary]] if primary in metrics else metrics
    for metric in ordered:
        label = f"{metric} (primary)" if metric == primary else str(metric)
        table.add_row(label, number(metrics[metric]), interval(scores, str(metric)))
    return table


def print_submission(doc: dict[str, Any]) -> None:
    """A submission: status, then each part's scores or the failure reason."""
    console.print(f"submission [bold]{doc['id']}[/] to {doc['benchmark']} "
                  f"(model {doc['model_name']!r}): [bold]{doc['status']}[/]", highlight=False)
    if doc.get("failure_reason"):
        console.print(f"failure: {doc['failure_reason']}", highlight=False)
    scores = doc.get("scores") or {}
    for part in ("public", "private"):
        if scores.get(part):
            n = scores[part].get("n")
            console.print(scores_table(f"{part} scores" + (f" ({n} examples)" if n else ""),
                                       scores[part]))
    print_warnings(doc)


def leaderboard_table(doc: dict[str, Any]) -> Table:
    """The leaderboard as a table: rank, who, model, primary ± interval, other metrics."""
    primary = doc["primary_metric"]
    others = [m for m in doc.get("metrics", []) if m != primary]
    table = Table(title=f"{doc['title']} — {doc['view']} leaderboard, {primary} "
                        f"{ARROWS.get(doc['direction'], doc['direction'])}",
                  title_justify="left")
    for column in ("#", "participant", "model", primary, "95% interval", *others, "tied",
                   "subs", "date"):
        table.add_column(column)
    for e in doc["entries"]:
        model = e["model_name"] + (" (baseline)" if e.get("baseline") else "")
        model += " ★ challenge" if e.get("met_challenge") else ""
        tied = {True: "≈ leader", False: "", None: "?"}[e.get("tied_with_leader")]
        table.add_row(str(e["rank"]), e["participant"], model, number(e["primary"]),
                      interval(e, primary), *[number(e["metrics"].get(m)) for m in others],
                      tied if e["rank"] > 1 else "", str(e["submissions"]),
                      (e.get("date") or "")[:10])
    return table


def print_leaderboard(doc: dict[str, Any]) -> None:
    """Leaderboard table, challenge line and warnings."""
    if not doc["entries"]:
        console.print(f"{doc['benchmark']}: no scored submissions yet")
    else:
        console.print(leaderboard_table(doc))
    challenge = doc.get("challenge")
    if challenge:
        met = challenge.get("met")
        state = (f"met by submission {met['submission_id']}" if met else "not met yet")
        console.print(f"challenge: {doc['primary_metric']} target {challenge['target']} "
                      f"({challenge.get('prize') or 'no prize text'}): {state}", highlight=False)
    print_warnings(doc)
