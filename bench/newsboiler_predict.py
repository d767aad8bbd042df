"""Write newsboiler predictions with ``pipeline.clean_text`` (score with the reference scorer).

python bench/newsboiler_predict.py ../shared/eval/newsboiler/dev.jsonl /tmp/pred.jsonl
python3 ../shared/eval/reference/newsboiler_score.py ../shared/eval/newsboiler/dev.jsonl /tmp/pred.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.api import clean_text


def predict(dataset: Path, out: Path) -> int:
    n = 0
    with dataset.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for line in src:
            rec = json.loads(line)
            cleaned = clean_text(rec["raw"], url=rec.get("url"), fmt=rec.get("format", "text"))
            dst.write(json.dumps({"id": rec["id"], "text": cleaned.text}, ensure_ascii=False) + "\n")
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("predictions", type=Path)
    args = parser.parse_args()
    print(f"{predict(args.dataset, args.predictions)} predictions -> {args.predictions}")


if __name__ == "__main__":
    main()
