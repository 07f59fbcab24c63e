"""What a regeneration changed in a results folder: files added, removed or changed, and for run
histories the largest change of a number (so that "differs" says by how much)."""
import hashlib
import json
from pathlib import Path


def fingerprint(folder, only=None):
    """{relative path: (sha256, rows of history.jsonl or None)} of every file under ``folder`` (or under
    the relative paths ``only`` of it)."""
    folder, out = Path(folder), {}
    tops = [folder / x for x in only] if only else [folder]
    files = [q for t in tops for q in ([t] if t.is_file() else sorted(t.rglob("*")) if t.is_dir() else [])]
    for p in files:
        if p.is_file():
            rows = _rows(p) if p.name == "history.jsonl" else None
            out[p.relative_to(folder).as_posix()] = (hashlib.sha256(p.read_bytes()).hexdigest(), rows)
    return out


def _rows(path):
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError):
        return None


def largest_change(old, new):
    """(column, step, |difference|) of the largest numeric change between two histories' common steps."""
    by_step = {r.get("step"): r for r in old}
    best = None
    for r in new:
        o = by_step.get(r.get("step"))
        for k, v in (r.items() if o else ()):
            w = o.get(k)
            if isinstance(v, (int, float)) and isinstance(w, (int, float)) and k != "time_s":
                if best is None or abs(v - w) > best[2]:
                    best = (k, r["step"], abs(v - w))
    return best


def changes(before, after):
    """Lines saying what differs between two fingerprints ("unchanged" when nothing does)."""
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p][0] != after[p][0])
    if not (added or removed or changed):
        return [f"unchanged: all {len(after)} files (the results folder and the report) are as they were"]
    lines = [f"changed: {len(changed)} files, added: {len(added)}, removed: {len(removed)} (of {len(after)})"]
    for p in changed:
        extra = ""
        if before[p][1] is not None and after[p][1] is not None:
            big = largest_change(before[p][1], after[p][1])
            extra = f" (largest change: {big[0]} at step {big[1]} by {big[2]:.3g})" if big else ""
        lines.append(f"  changed {p}{extra}")
    lines += [f"  added {p}" for p in added[:20]] + ([f"  … {len(added) - 20} more added"] if len(added) > 20 else [])
    lines += [f"  removed {p}" for p in removed]
    return lines
