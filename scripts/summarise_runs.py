"""Print the outcome of every run under a folder: status, test accuracy and where its outputs are."""

import json
import sys
from pathlib import Path


def main(root: Path) -> int:
    runs = sorted(root.glob("**/logs/*/runs/*/run.json"))
    if not runs:
        print(f"No run.json under {root}: did training start?", file=sys.stderr)
        return 1
    for path in runs:
        run = json.loads(path.read_text())
        accuracy = run.get("metrics", {}).get("test/acc")
        shown = f"{accuracy:.4f}" if accuracy is not None else "n/a"
        print(f"{run['status']}: test/acc = {shown} in {run.get('duration_s', 0):.1f} s")
        print(f"  outputs: {path.parent}")
    return 0 if all(json.loads(p.read_text())["status"] == "completed" for p in runs) else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "demo")))
